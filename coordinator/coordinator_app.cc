#include "coordinator_app.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <tuple>

#include "slate/clock.h"
#include "slate/entry_cursor.h"
#include "slate/json_payload.h"
#include "slate/pool.h"
#include "slate/process_setup.h"
#include "metrics.h"
#include "slate/http_server.h"

namespace slate::coordinator {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

struct Progress {
  EntryId last_entry = 0;
  uint64_t last_done = 0;
  int64_t last_at = 0;
  double rate = 0;  // tasks per second, smoothed
};

class Watch {
 public:
  Watch(const CoordinatorConfig& cfg, Pool& pool, Metrics& metrics)
      : cfg_(cfg), pool_(pool), metrics_(metrics),
        stale_(pool, Since(segments::kConflicts, {"stale-epoch"}, true)),
        lost_(pool, Since(segments::kErrors, {"lost"}, true)),
        results_(pool, Since(segments::kResults, {}, false)),
        failures_(pool, Since(segments::kErrors, {"failure"}, false)),
        conflicts_(pool, Since(segments::kConflicts, {}, false)) {}

  void Tick() {
    ReportProgress();
    FlagStaleRefusals();
    FlagLostAttempts();
    FlagAgents();
    CountForMetrics();
  }

 private:
  void Flag(const std::string& kind, const std::vector<std::string>& tags, json detail) {
    NewEntry e;
    e.segment = segments::kConflicts;
    e.tags = tags;
    e.tags.insert(e.tags.begin(), kind);
    e.importance = 0.9f;
    e.author = "coordinator";
    detail["kind"] = kind;
    e.payload = JsonToPayload(detail);
    if (auto w = pool_.Write(e); !w.ok())
      spdlog::warn("cannot flag {}: {}", kind, w.status().message());
    else
      spdlog::warn("flagged {}: {}", kind, JsonText(detail));
  }

  void ReportProgress() {
    Query q;
    q.segments = {"requests"};
    q.all_tags = {"active"};
    q.limit = 0;
    auto requests = pool_.Find(q);
    if (!requests.ok()) return;
    for (const Entry& r : *requests) ReportRequest(r);
  }

  void ReportRequest(const Entry& r) {
    const std::string rid = std::to_string(r.id);
    // A page at a time: a million-task request costs one page of memory.
    Query q;
    q.segments = {segments::kTasks};
    q.all_tags = {"req:" + rid};
    q.limit = 4096;
    q.with_payload = false;
    uint64_t by_state[kTaskStateCount] = {};
    uint64_t checkpointed = 0;  // unfinished tasks with a saved checkpoint
    size_t found = 0;
    for (;;) {
      auto page = pool_.Find(q);
      if (!page.ok()) return;
      for (const Entry& t : *page) {
        auto info = pool_.GetTask(t.id);
        if (!info.ok()) continue;
        by_state[static_cast<int>(info->state)] += 1;
        checkpointed += info->checkpointed;
      }
      found += page->size();
      if (page->size() < q.limit) break;
      q.after_id = page->back().id;
    }
    const auto total = r.payload.empty() ? found : [&] {
      auto j = PayloadToJson(r.payload);
      return j.ok() && j->contains("tasks") ? (*j)["tasks"].get<size_t>() : found;
    }();
    Progress& p = progress_[r.id];
    const int64_t now = NowMonoNs();
    uint64_t done = 0;  // finished, whatever the outcome
    for (int s = 1; s < kTaskStateCount; ++s)
      if (IsFinal(static_cast<TaskState>(s))) done += by_state[s];
    if (p.last_at != 0 && now > p.last_at) {
      const double inst = static_cast<double>(done - p.last_done) * 1e9 /
                          static_cast<double>(now - p.last_at);
      p.rate = p.rate == 0 ? inst : 0.7 * p.rate + 0.3 * inst;
    }
    p.last_done = done;
    p.last_at = now;
    const uint64_t left = total > done ? total - done : 0;
    json payload = {{"kind", "progress"},
                    {"request", rid},
                    {"total", total},
                    {"pending", by_state[static_cast<int>(TaskState::kPending)]},
                    {"running", by_state[static_cast<int>(TaskState::kRunning)]},
                    {"done", by_state[static_cast<int>(TaskState::kDone)]},
                    {"failed", by_state[static_cast<int>(TaskState::kFailed)]},
                    {"dead_lettered", by_state[static_cast<int>(TaskState::kDeadLettered)]},
                    {"waiting", by_state[static_cast<int>(TaskState::kWaiting)]},
                    {"held", by_state[static_cast<int>(TaskState::kHeld)]},
                    {"skipped", by_state[static_cast<int>(TaskState::kSkipped)]},
                    {"cancelled", by_state[static_cast<int>(TaskState::kCancelled)]},
                    {"checkpointed", checkpointed},
                    {"throughput_per_s", p.rate},
                    {"eta_s", p.rate > 0 ? json(static_cast<double>(left) / p.rate)
                                         : json(nullptr)}};
    NewEntry e;
    e.segment = segments::kProgress;
    e.tags = {"progress", "req:" + rid};
    e.importance = 0.5f;
    e.author = "coordinator";
    e.payload = JsonToPayload(payload);
    auto id = pool_.Write(e);
    if (!id.ok()) return;
    if (p.last_entry != 0) (void)pool_.Erase(p.last_entry);
    p.last_entry = *id;
  }

  static Query Since(const char* segment, std::vector<std::string> tags, bool payloads) {
    Query q;
    q.segments = {segment};
    q.all_tags = std::move(tags);
    q.limit = 0;
    q.with_payload = payloads;
    return q;
  }

  void FlagStaleRefusals() {
    auto found = stale_.Next();
    if (!found.ok()) return;
    for (const Entry& e : *found) {
      auto rec = PayloadToJson(e.payload);
      if (!rec.ok() || !rec->is_object()) continue;
      const uint64_t task = rec->value("task", uint64_t{0});
      // A stale claim is refused up to three times (renew, complete, fail):
      // it is one duplicate assignment.
      const auto key = std::make_tuple(task, rec->value("epoch", 0u), rec->value("refused", ""));
      if (!flagged_stale_.insert(key).second) continue;
      if (Preempted(task, rec->value("epoch", 0u))) continue;
      Flag("duplicate_assignment", {"task:" + std::to_string(task)},
           {{"task", task},
            {"workers", json::array({rec->value("refused", ""), rec->value("holder", "")})},
            {"evidence", "a " + rec->value("op", std::string("completion")) + " with epoch " +
                             std::to_string(rec->value("epoch", 0)) + " was refused; the task is " +
                             rec->value("state", std::string("?")) + " at epoch " +
                             std::to_string(rec->value("current_epoch", 0))},
            {"record", e.id}});
    }
  }

  // A preempted holder's late outcome is refused like any stale one, but
  // the task was taken back on purpose and runs again: no duplicate
  // assignment. Its "preempted" record names the attempt.
  bool Preempted(uint64_t task, uint32_t epoch) const {
    Query q;
    q.segments = {segments::kErrors};
    q.all_tags = {"preempted", "task:" + std::to_string(task)};
    q.limit = 0;
    auto found = pool_.Find(q);
    if (!found.ok()) return false;
    for (const Entry& e : *found)
      if (auto rec = PayloadToJson(e.payload);
          rec.ok() && rec->is_object() && rec->value("attempt", 0u) == epoch)
        return true;
    return false;
  }

  // Every claim taken from its holder (died, hung, lease expired) left a
  // "lost" record: flag each, even when the agent itself was gone and
  // replaced between two ticks.
  void FlagLostAttempts() {
    auto found = lost_.Next();
    if (!found.ok()) return;
    for (const Entry& e : *found) {
      auto rec = PayloadToJson(e.payload);
      if (!rec.ok() || !rec->is_object()) continue;
      const uint64_t task = rec->value("task", uint64_t{0});
      Flag("lost_attempt", {"task:" + std::to_string(task), "agent:" + rec->value("agent", "")},
           {{"task", task}, {"worker", rec->value("agent", "")},
            {"attempt", rec->value("attempt", 0)}, {"reason", rec->value("error", "")},
            {"record", e.id}});
    }
  }

  // Counters from the entries written since the last tick.
  void CountForMetrics() {
    auto stats = pool_.Stats();
    auto agents = pool_.ListAgents(milliseconds(cfg_.hung_after_ms));
    if (stats.ok() && agents.ok()) metrics_.SetPool(*stats, *agents);
    if (auto found = results_.Next(); found.ok()) {
      for (const Entry& r : *found) {
        if (r.task_id == 0) continue;
        auto task = pool_.Read(r.task_id);
        metrics_.AddCompletion(task.ok() ? static_cast<double>(r.created_ns - task->created_ns) / 1e9
                                         : 0.0);
      }
    }
    if (auto found = failures_.Next(); found.ok())
      for (size_t i = 0; i < found->size(); ++i) metrics_.AddFailure();
    if (auto found = conflicts_.Next(); found.ok())
      for (size_t i = 0; i < found->size(); ++i) metrics_.AddConflict();
  }

  void FlagAgents() {
    auto agents = pool_.ListAgents(milliseconds(cfg_.hung_after_ms));
    if (!agents.ok()) return;
    const int64_t now = NowMonoNs();
    for (const AgentInfo& a : *agents) {
      if (!TakesTasks(a.role)) continue;
      const std::string key = a.name + "/" + std::to_string(a.ref.generation);
      if (a.liveness != Liveness::kAlive && flagged_agents_.insert(key).second)
        Flag(a.liveness == Liveness::kGone ? "dead_worker" : "hung_worker",
             {"agent:" + a.name},
             {{"worker", a.name}, {"pid", a.pid},
              {"heartbeat_age_ms", static_cast<double>(a.heartbeat_age_ns) / 1e6},
              {"running", a.running}, {"pending", a.pending}});
    }
    auto expired = pool_.ExpiredLeases();
    if (!expired.ok()) return;
    for (const TaskInfo& t : *expired) {
      std::string holder = "row " + std::to_string(t.assignee.row);
      for (const AgentInfo& a : *agents)
        if (a.ref == t.assignee) holder = a.name;
      if (flagged_leases_.insert({t.id, t.epoch}).second)
        Flag("expired_lease", {"task:" + std::to_string(t.id), "agent:" + holder},
             {{"task", t.id}, {"worker", holder}, {"epoch", t.epoch},
              {"expired_ms_ago", static_cast<double>(now - t.lease_deadline_mono_ns) / 1e6}});
    }
  }

  const CoordinatorConfig& cfg_;
  Pool& pool_;
  std::map<EntryId, Progress> progress_;
  Metrics& metrics_;
  EntryCursor stale_, lost_, results_, failures_, conflicts_;
  std::set<std::string> flagged_agents_;
  std::set<std::pair<TaskId, uint32_t>> flagged_leases_;
  std::set<std::tuple<uint64_t, uint32_t, std::string>> flagged_stale_;
};

}  // namespace

int CoordinatorApp::Run() {
  // A bad --metrics is a usage error, whatever state the pool is in.
  Metrics metrics;
  std::unique_ptr<http::Server> server;
  if (!config_.metrics.empty()) {
    auto started = http::Server::Start(
        config_.metrics,
        [&metrics](const http::Request& req) {
          if (req.method != "GET" || req.path != "/metrics")
            return http::Response::Text(404, "slate-coordinator serves /metrics only\n");
          http::Response r = http::Response::Text(200, metrics.Render());
          r.content_type = "text/plain; version=0.0.4";
          return r;
        },
        "--metrics", 4);
    if (!started.ok()) {
      spdlog::error("{}", started.status().message());
      return 2;
    }
    server = std::move(*started);
    spdlog::info("metrics on http://{}:{}/metrics", server->host(), server->port());
  }
  auto pool = Pool::Open(config_.pool);
  if (!pool.ok()) {
    spdlog::error("cannot attach: {}", pool.status().message());
    return 1;
  }
  auto me = (*pool)->RegisterAgent({"coordinator-" + std::to_string(getpid()), {}, 0,
                                    AgentRole::kCoordinator});
  if (!me.ok()) {
    spdlog::error("cannot register: {}", me.status().message());
    return 1;
  }
  std::atomic<bool>& stop = InstallStopSignals();
  Watch watch(config_, **pool, metrics);
  int64_t next_tick = 0;
  while (!stop.load()) {
    (void)(*pool)->Heartbeat(*me);
    if (NowMonoNs() >= next_tick) {
      watch.Tick();
      next_tick = NowMonoNs() + int64_t{config_.interval_ms} * 1'000'000;
    }
    usleep(config_.heartbeat_ms * 1000);
  }
  (void)(*pool)->Deregister(*me);
  return 0;
}

}  // namespace slate::coordinator
