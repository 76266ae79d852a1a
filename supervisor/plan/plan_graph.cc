#include "plan/plan_graph.h"

#include <unordered_map>

namespace slate::supervisor {
namespace {

Status Bad(const std::string& why) { return {StatusCode::kInvalidArgument, why}; }

std::string Where(const std::string& name, const TaskDef& d) {
  return name + ":" + std::to_string(d.line) + ": ";
}

std::string NameOf(const TaskDef& d) {
  return d.user_id ? "'" + *d.user_id + "'" : "line " + std::to_string(d.line);
}

}  // namespace

Result<PlanGraph> PlanGraph::Build(const std::string& name, const std::vector<TaskDef>& defs) {
  std::unordered_map<std::string, uint32_t> by_id;
  by_id.reserve(defs.size());
  for (uint32_t i = 0; i < defs.size(); ++i) {
    if (!defs[i].user_id) continue;
    auto [it, fresh] = by_id.emplace(*defs[i].user_id, i);
    if (!fresh)
      return Bad(Where(name, defs[i]) + "duplicate id '" + *defs[i].user_id + "' (also on line " +
                 std::to_string(defs[it->second].line) + ")");
  }
  PlanGraph g;
  g.dep_start_.reserve(defs.size() + 1);
  g.dep_start_.push_back(0);
  for (uint32_t i = 0; i < defs.size(); ++i) {
    const size_t first = g.deps_.size();
    for (const std::string& id : defs[i].depends_on) {
      auto it = by_id.find(id);
      if (it == by_id.end())
        return Bad(Where(name, defs[i]) + "depends on unknown id '" + id + "'");
      if (it->second == i) return Bad(Where(name, defs[i]) + "'" + id + "' depends on itself");
      for (size_t k = first; k < g.deps_.size(); ++k)
        if (g.deps_[k] == it->second)
          return Bad(Where(name, defs[i]) + "names '" + id + "' twice in depends_on");
      g.deps_.push_back(it->second);
    }
    g.dep_start_.push_back(static_cast<uint32_t>(g.deps_.size()));
  }
  // Kahn's order: a line is placed once every line it depends on is. What
  // is left unplaced lies on, or behind, a cycle.
  const size_t n = defs.size();
  std::vector<uint32_t> waiting(n), dependents_start(n + 1, 0), dependents(g.deps_.size());
  for (size_t i = 0; i < n; ++i) {
    waiting[i] = static_cast<uint32_t>(g.DepsOf(i).size());
    for (uint32_t d : g.DepsOf(i)) ++dependents_start[d + 1];
  }
  for (size_t i = 0; i < n; ++i) dependents_start[i + 1] += dependents_start[i];
  std::vector<uint32_t> fill(dependents_start.begin(), dependents_start.end() - 1);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t d : g.DepsOf(i)) dependents[fill[d]++] = i;
  std::vector<uint32_t> ready;
  for (uint32_t i = 0; i < n; ++i)
    if (waiting[i] == 0) ready.push_back(i);
  size_t placed = 0;
  while (!ready.empty()) {
    const uint32_t i = ready.back();
    ready.pop_back();
    ++placed;
    for (uint32_t k = dependents_start[i]; k < dependents_start[i + 1]; ++k)
      if (--waiting[dependents[k]] == 0) ready.push_back(dependents[k]);
  }
  if (placed == n) return g;
  // Every unplaced line has an unplaced dependency: follow them until one
  // repeats, and that stretch of the walk is a cycle.
  uint32_t at = 0;
  while (waiting[at] == 0) ++at;
  std::vector<uint32_t> walk;
  std::vector<int64_t> seen_at(n, -1);
  while (seen_at[at] < 0) {
    seen_at[at] = static_cast<int64_t>(walk.size());
    walk.push_back(at);
    for (uint32_t d : g.DepsOf(at))
      if (waiting[d] != 0) {
        at = d;
        break;
      }
  }
  std::string ids, lines;
  for (size_t k = static_cast<size_t>(seen_at[at]); k < walk.size(); ++k) {
    ids += NameOf(defs[walk[k]]) + " depends on ";
    lines += (lines.empty() ? "" : ", ") + std::to_string(defs[walk[k]].line);
  }
  return Bad(name + ": dependency cycle: " + ids + NameOf(defs[at]) + " (lines " + lines + ")");
}

Status CheckPlanGraph(const std::string& name, const std::vector<TaskDef>& defs) {
  return PlanGraph::Build(name, defs).status();
}

}  // namespace slate::supervisor
