#include "request/request_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "slate/clock.h"
#include "plan/plan_graph.h"
#include "slate/json_payload.h"
#include "slate/plan_task.h"

namespace slate::supervisor {
namespace {

using nlohmann::json;

json RecordJson(const RequestRecord& r) {
  json j = {{"source", r.source}, {"split", SplitModeName(r.split)}, {"tasks", r.tasks},
            {"posted", r.posted}, {"started_ns", r.started_ns}, {"output", r.output}};
  if (r.plan)
    j["plan"] = {{"context_bytes", r.options.context_bytes},
                 {"validate", r.options.validate},
                 {"max_iterations", r.options.max_iterations}};
  j["on_exhausted"] = OnExhaustedName(r.options.on_exhausted);
  if (r.failed_by) j["failed_by"] = r.failed_by;
  if (!r.failed_why.empty()) j["failed_why"] = r.failed_why;
  if (r.failed_fast) j["failed_fast"] = true;
  if (r.cancelled) j["cancelled"] = true;
  if (r.priority != 0) j["priority"] = r.priority;
  if (!r.team.empty()) j["team"] = r.team;
  if (r.parent != 0) j["parent"] = r.parent;
  return j;
}

std::optional<RequestRecord> FromEntry(const Entry& e) {
  auto j = PayloadToJson(e.payload);
  if (!j.ok() || !j->is_object()) return std::nullopt;
  try {
    RequestRecord r;
    r.entry_id = e.id;
    r.id = std::to_string(e.id);
    r.source = (*j)["source"].get<std::string>();
    auto split = ParseSplitMode((*j)["split"].get<std::string>());
    if (!split.ok()) return std::nullopt;
    r.split = *split;
    r.tasks = (*j)["tasks"].get<uint64_t>();
    r.posted = (*j)["posted"].get<bool>();
    r.started_ns = (*j)["started_ns"].get<int64_t>();
    r.output = j->value("output", "");
    if (j->contains("plan")) {
      const json& p = (*j)["plan"];
      r.plan = true;
      r.options.context_bytes = p["context_bytes"].get<uint64_t>();
      r.options.validate = p.value("validate", false);
      r.options.max_iterations = p.value("max_iterations", 3u);
    }
    if (j->contains("on_exhausted")) {
      auto policy = ParseOnExhausted((*j)["on_exhausted"].get<std::string>());
      if (!policy.ok()) return std::nullopt;
      r.options.on_exhausted = *policy;
    }
    r.failed_by = j->value("failed_by", TaskId{0});
    r.failed_why = j->value("failed_why", "");
    r.failed_fast = j->value("failed_fast", false);
    r.cancelled = j->value("cancelled", false);
    r.priority = std::clamp(j->value("priority", 0), -128, 127);
    r.team = j->value("team", "");
    r.parent = j->value("parent", TaskId{0});
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string TeamOf(const Entry& e) { return TagValue(e, kTeamTag).value_or(""); }

Result<std::vector<RequestRecord>> FindActiveRequests(Pool& pool, const std::string& team,
                                                      EntryId after) {
  Query q;
  q.segments = {kRequestsSegment};
  q.all_tags = {"active"};
  q.after_id = after;
  if (!team.empty()) q.all_tags.push_back(kTeamTag + team);
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return found.status();
  std::vector<RequestRecord> out;
  for (const Entry& e : *found)  // oldest first
    if (auto r = FromEntry(e); r && r->team == team) out.push_back(std::move(*r));
  std::stable_sort(out.begin(), out.end(), [](const RequestRecord& a, const RequestRecord& b) {
    if (a.posted != b.posted) return a.posted;
    return !a.posted && a.priority > b.priority;
  });
  return out;
}

Result<std::optional<RequestRecord>> FindActiveRequest(Pool& pool, const std::string& team) {
  auto all = FindActiveRequests(pool, team);
  if (!all.ok()) return all.status();
  if (all->empty()) return std::optional<RequestRecord>();
  return std::optional<RequestRecord>(std::move(all->front()));
}

Result<std::optional<RequestRecord>> FindSubRequest(Pool& pool, TaskId parent) {
  Query q;
  q.segments = {kRequestsSegment};
  q.all_tags = {"parent:" + std::to_string(parent)};
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return found.status();
  for (auto it = found->rbegin(); it != found->rend(); ++it)
    if (auto r = FromEntry(*it); r && r->parent == parent) return std::optional(std::move(*r));
  return std::optional<RequestRecord>();
}

RequestShape ShapeOf(const std::vector<TaskDef>& defs, const PlanOptions& options) {
  return {IsPlan(defs) || options.validate, options};
}

Result<RequestRecord> CreateRequest(Pool& pool, const std::string& source, SplitMode split,
                                    uint64_t tasks, const std::string& output,
                                    RequestShape shape) {
  RequestRecord r;
  r.plan = shape.plan;
  r.options = shape.options;
  r.priority = shape.priority;
  r.output = output;
  r.source = source;
  r.split = split;
  r.tasks = tasks;
  r.started_ns = NowRealNs();
  r.team = shape.team;
  r.parent = shape.parent;
  NewEntry e;
  e.segment = kRequestsSegment;
  e.tags = {"request", "active"};
  if (!r.team.empty()) e.tags.push_back(kTeamTag + r.team);
  if (r.parent != 0) e.tags.push_back("parent:" + std::to_string(r.parent));
  e.importance = 1.0f;
  e.author = "supervisor";
  e.payload = JsonToPayload(RecordJson(r));
  e.keep = true;
  auto id = pool.Write(e);
  if (!id.ok()) return id.status();
  r.entry_id = *id;
  r.id = std::to_string(*id);
  return r;
}

Status PostTasks(Pool& pool, RequestRecord& req, const std::vector<TaskDef>& defs,
                 AgentRef backlog, uint32_t default_max_retries) {
  if (defs.size() != req.tasks)
    return {StatusCode::kInvalidArgument,
            "request " + req.id + " had " + std::to_string(req.tasks) + " tasks; " +
                req.source + " now holds " + std::to_string(defs.size())};
  auto existing = RequestTasks(pool, req, false);
  if (!existing.ok()) return existing.status();
  std::set<uint64_t> have;
  for (const auto& t : *existing) have.insert(t.index);
  std::optional<PlanGraph> graph;
  if (req.plan) {
    auto g = PlanGraph::Build(req.source, defs);
    if (!g.ok()) return g.status();
    graph = std::move(*g);
  }
  for (uint64_t i = 0; i < defs.size(); ++i) {
    if (have.count(i)) continue;
    const TaskDef& d = defs[i];
    TaskSpec spec;
    spec.entry.segment = segments::kTasks;
    spec.entry.tags = {"req:" + req.id, "i:" + std::to_string(i)};
    if (d.user_id) spec.entry.tags.push_back("id:" + *d.user_id);
    if (d.on_exhausted)
      spec.entry.tags.push_back(kOnExhaustedTag + std::string(OnExhaustedName(*d.on_exhausted)));
    if (req.plan && !d.validate) spec.entry.tags.push_back(kNoValidateTag);
    if (!d.preemptible) spec.entry.tags.push_back(kNoPreemptTag);
    if (!req.team.empty()) spec.entry.tags.push_back(kTeamTag + req.team);
    spec.entry.author = "supervisor";
    spec.entry.importance = d.importance;
    if (graph) {
      PlanTask stub;
      stub.id = d.user_id;
      stub.payload = d.payload;
      stub.context_bytes = req.options.context_bytes;
      const auto deps = graph->DepsOf(i);
      stub.after.assign(deps.begin(), deps.end());
      spec.entry.tags.push_back(kPlanTag);
      spec.entry.payload = EncodePlanTask(stub);
      spec.waiting = !deps.empty();
    } else {
      spec.entry.payload = JsonToPayload(d.payload);
    }
    spec.entry.keep = true;  // until aggregated: its tags place it in the output
    spec.priority = std::clamp(d.priority + req.priority, -128, 127);
    spec.requires_cap = d.requires_cap;
    spec.max_retries = d.max_retries.value_or(default_max_retries);
    spec.timeout_ms = d.timeout_ms;
    spec.deadline_ns = d.deadline_ns;
    spec.assignee = spec.waiting ? kSharedQueue : backlog;
    auto posted = pool.PostTask(spec);
    if (!posted.ok())
      return {posted.status().code(),
              "task " + std::to_string(i) + " of " + req.source + ": " + posted.status().message()};
  }
  req.posted = true;
  Status s = SaveRequest(pool, req);
  if (s.code() == StatusCode::kNotFound) {
    // The pool quarantined the record: this run goes on, but a successor
    // could not resume it.
    spdlog::error("request {}: its record is gone from the pool ({}); the run goes on, "
                  "but cannot be resumed if this supervisor stops",
                  req.id, s.message());
    return Status::Ok();
  }
  return s;
}

EntryId RecordIdOf(const std::string& request_id) {
  if (request_id.empty() || request_id.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::strtoull(request_id.c_str(), nullptr, 10);
}

Result<std::vector<RequestTask>> RequestTasks(Pool& pool, const RequestRecord& req,
                                              bool with_payload) {
  Query q;
  q.segments = {segments::kTasks};
  q.all_tags = {"req:" + req.id};
  q.after_id = req.entry_id;
  q.limit = 0;
  q.with_payload = with_payload;
  auto found = pool.Find(q);
  if (!found.ok()) return found.status();
  std::vector<RequestTask> out;
  for (Entry& e : *found) {
    RequestTask t;
    const auto idx = TagValue(e, "i:");
    if (!idx) continue;
    t.index = std::stoull(*idx);
    t.user_id = TagValue(e, "id:");
    t.entry = std::move(e);
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const RequestTask& a, const RequestTask& b) {
              return a.index != b.index ? a.index < b.index : a.entry.id < b.entry.id;
            });
  return out;
}

Result<RequestRecord> LoadRequest(Pool& pool, EntryId entry_id) {
  auto e = pool.Read(entry_id);
  if (!e.ok()) return e.status();
  auto r = FromEntry(*e);
  if (!r) return Status{StatusCode::kCorrupt, "request " + std::to_string(entry_id) +
                                                  ": its record cannot be read"};
  return *r;
}

Status SaveRequest(Pool& pool, const RequestRecord& req) {
  EntryUpdate u;
  u.payload = JsonToPayload(RecordJson(req));
  return pool.Update(req.entry_id, u);
}

OnExhausted PolicyOf(const Entry& task, const RequestRecord& req) {
  if (auto tag = TagValue(task, kOnExhaustedTag))
    if (auto e = ParseOnExhausted(*tag); e.ok()) return *e;
  return req.options.on_exhausted;
}

Result<std::vector<TaskId>> TaskIdsOf(Pool& pool, const std::string& request_id) {
  Query q;
  q.segments = {segments::kTasks};
  q.all_tags = {"req:" + request_id};
  q.after_id = RecordIdOf(request_id);
  q.with_payload = false;
  q.limit = 4096;
  std::vector<TaskId> ids;
  for (;;) {
    auto page = pool.Find(q);
    if (!page.ok()) return page.status();
    for (const Entry& e : *page) ids.push_back(e.id);
    if (page->size() < q.limit) break;
    q.after_id = page->back().id;
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Status FinishRequest(Pool& pool, const RequestRecord& req) {
  EntryUpdate u;
  u.tags = std::vector<std::string>{"request", "finished"};
  if (!req.team.empty()) u.tags->push_back(kTeamTag + req.team);
  if (req.parent != 0) u.tags->push_back("parent:" + std::to_string(req.parent));
  if (Status s = pool.Update(req.entry_id, u); !s.ok()) return s;
  return pool.Release(req.entry_id);
}

}  // namespace slate::supervisor
