#include "slate/group_snapshot.h"

#include <algorithm>
#include <map>

#include "slate/clock.h"
#include "slate/dump.h"
#include "slate/json_payload.h"

namespace slate {
namespace {

using ojson = nlohmann::ordered_json;

std::vector<Entry> Latest(Pool& pool, const std::string& segment,
                          std::vector<std::string> tags, uint32_t limit) {
  Query q;
  q.segments = {segment};
  q.all_tags = std::move(tags);
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return {};
  std::vector<Entry> out = std::move(*found);
  std::reverse(out.begin(), out.end());  // newest first
  if (limit != 0 && out.size() > limit) out.resize(limit);
  return out;
}

uint64_t U(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<uint64_t>() : 0;
}

RecentEvent EventOf(const Entry& e) {
  RecentEvent ev{e.id, e.created_ns, e.segment, e.tags.empty() ? "" : e.tags[0], ""};
  auto j = PayloadToJson(e.payload);
  if (!j.ok() || !j->is_object()) return ev;
  ev.kind = j->value("kind", ev.kind);
  std::string text;
  if (j->contains("task")) text = "task " + std::to_string(U(*j, "task")) + ": ";
  for (const char* k : {"error", "reason", "evidence", "worker"}) {
    if (j->contains(k) && (*j)[k].is_string()) {
      text += (*j)[k].get<std::string>();
      break;
    }
  }
  ev.text = text;
  return ev;
}

// A request of up to so many lines is counted straight from its tasks at
// every snapshot, fresher than the coordinator's report (which also gives
// its rate and ETA); a larger one by the report alone, once there is one.
constexpr uint64_t kCountedTasks = 10000;

// Counts a plain request's tasks by state (a plan's lines may have many
// tasks each: its report counts them by line). False when they cannot be
// read.
bool CountTasks(Pool& pool, EntryId record, RequestProgress* p) {
  Query q;
  q.segments = {segments::kTasks};
  q.all_tags = {"req:" + p->id};
  q.after_id = record;  // a request's tasks come after its record
  q.with_payload = false;
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return false;
  std::vector<TaskId> ids;
  for (const Entry& e : *found) ids.push_back(e.id);
  auto infos = pool.GetTasks(ids);
  if (!infos.ok()) return false;
  p->pending = p->running = p->done = p->failed = p->dead_lettered = 0;
  p->waiting = p->held = p->skipped = p->cancelled = p->checkpointed = 0;
  for (const TaskInfo& t : *infos) {
    switch (t.state) {
      case TaskState::kPending: ++p->pending; break;
      case TaskState::kRunning: ++p->running; break;
      case TaskState::kDone: ++p->done; break;
      case TaskState::kFailed: ++p->failed; break;
      case TaskState::kDeadLettered: ++p->dead_lettered; break;
      case TaskState::kWaiting: ++p->waiting; break;
      case TaskState::kHeld: ++p->held; break;
      case TaskState::kSkipped: ++p->skipped; break;
      case TaskState::kCancelled: ++p->cancelled; break;
    }
    if (t.checkpointed && !IsFinal(t.state)) ++p->checkpointed;
  }
  return true;
}

}  // namespace

Result<GroupSnapshot> TakeGroupSnapshot(Pool& pool, size_t recent_events) {
  GroupSnapshot snap;
  snap.taken_ns = NowRealNs();
  auto stats = pool.Stats();
  if (!stats.ok()) return stats.status();
  snap.stats = std::move(*stats);
  auto agents = pool.ListAgents(std::chrono::seconds(5));
  if (!agents.ok()) return agents.status();
  std::map<std::string, std::string> breaker;  // newest report per worker
  for (const Entry& e : Latest(pool, segments::kProgress, {"breaker"}, 0)) {
    auto j = PayloadToJson(e.payload);
    if (j.ok() && j->is_object() && j->contains("worker"))
      breaker.emplace((*j)["worker"].get<std::string>(), j->value("state", "closed"));
  }
  for (AgentInfo& a : *agents) {
    WorkerRow row;
    if (a.running > 0)
      if (auto running = pool.RunningTasks(a.ref); running.ok() && !running->empty())
        row.current_task = running->front();
    if (auto it = breaker.find(a.name); it != breaker.end()) row.breaker = it->second;
    row.info = std::move(a);
    snap.agents.push_back(std::move(row));
  }
  for (const Entry& r : Latest(pool, "requests", {"active"}, 0)) {
    RequestProgress p;
    p.id = std::to_string(r.id);
    auto rj = PayloadToJson(r.payload);
    bool plan = false;
    if (rj.ok() && rj->is_object()) {
      plan = rj->contains("plan");
      p.source = rj->value("source", "");
      p.priority = rj->value("priority", 0);
      p.team = rj->value("team", "");
      p.parent = rj->value("parent", uint64_t{0});
      p.total = U(*rj, "tasks");
    }
    const auto prog = Latest(pool, segments::kProgress, {"progress", "req:" + p.id}, 1);
    if (!prog.empty()) {
      auto j = PayloadToJson(prog[0].payload);
      if (j.ok() && j->is_object()) {
        p.pending = U(*j, "pending");
        p.running = U(*j, "running");
        p.done = U(*j, "done");
        p.failed = U(*j, "failed");
        p.dead_lettered = U(*j, "dead_lettered");
        p.waiting = U(*j, "waiting");
        p.held = U(*j, "held");
        p.skipped = U(*j, "skipped");
        p.cancelled = U(*j, "cancelled");
        p.checkpointed = U(*j, "checkpointed");
        p.throughput_per_s = j->value("throughput_per_s", 0.0);
        if ((*j)["eta_s"].is_number()) p.eta_s = (*j)["eta_s"].get<double>();
      }
    }
    if (!plan && (p.total <= kCountedTasks || prog.empty())) (void)CountTasks(pool, r.id, &p);
    snap.requests.push_back(std::move(p));
  }
  std::vector<Entry> recent = Latest(pool, segments::kErrors, {}, static_cast<uint32_t>(recent_events));
  for (Entry& e : Latest(pool, segments::kConflicts, {}, static_cast<uint32_t>(recent_events)))
    recent.push_back(std::move(e));
  std::sort(recent.begin(), recent.end(), [](const Entry& a, const Entry& b) { return a.id > b.id; });
  if (recent.size() > recent_events) recent.resize(recent_events);
  for (const Entry& e : recent) snap.recent.push_back(EventOf(e));
  return snap;
}

ojson SnapshotToJson(const GroupSnapshot& s) {
  std::vector<AgentInfo> infos;
  for (const auto& w : s.agents) infos.push_back(w.info);
  ojson j = {{"taken", FormatTime(s.taken_ns)}, {"pool", StatsToJson(s.stats, infos)}};
  for (size_t i = 0; i < s.agents.size(); ++i) {
    j["pool"]["agents"][i]["current_task"] =
        s.agents[i].current_task ? ojson(*s.agents[i].current_task) : ojson(nullptr);
    j["pool"]["agents"][i]["breaker"] = s.agents[i].breaker;
  }
  ojson reqs = ojson::array();
  for (const auto& r : s.requests)
    reqs.push_back({{"id", r.id}, {"source", r.source}, {"priority", r.priority},
                    {"team", r.team}, {"parent", r.parent},
                    {"total", r.total},
                    {"pending", r.pending}, {"running", r.running}, {"done", r.done},
                    {"failed", r.failed}, {"dead_lettered", r.dead_lettered},
                    {"waiting", r.waiting}, {"held", r.held}, {"skipped", r.skipped},
                    {"cancelled", r.cancelled}, {"checkpointed", r.checkpointed},
                    {"throughput_per_s", r.throughput_per_s},
                    {"eta_s", r.eta_s ? ojson(*r.eta_s) : ojson(nullptr)}});
  j["requests"] = reqs;
  ojson recent = ojson::array();
  for (const auto& e : s.recent)
    recent.push_back({{"id", e.id}, {"at", FormatTime(e.at_ns)}, {"segment", e.segment},
                      {"kind", e.kind}, {"text", e.text}});
  j["recent"] = recent;
  return j;
}

}  // namespace slate
