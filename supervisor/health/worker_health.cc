#include "health/worker_health.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "slate/clock.h"
#include "slate/json_payload.h"

namespace slate::supervisor {
namespace {

std::string Key(const AgentInfo& a) { return a.name + "/" + std::to_string(a.ref.generation); }

std::string AgentName(const std::vector<AgentInfo>& agents, AgentRef ref) {
  for (const auto& a : agents)
    if (a.ref == ref) return a.name;
  return "row " + std::to_string(ref.row);
}

// The team of the task's holder; an unknown holder's tasks are the top
// level's to take back.
std::string TeamOf(const std::vector<AgentInfo>& agents, AgentRef ref) {
  for (const auto& a : agents)
    if (a.ref == ref) return a.team;
  return "";
}

}  // namespace

Status WorkerHealth::TakeBack(const AgentInfo& a, const std::string& why, bool running_only) {
  auto running = pool_.RunningTasks(a.ref);
  if (!running.ok()) return Status::Ok();  // the row went away meanwhile
  for (TaskId id : *running) {
    Status s = pool_.Reassign(id, me_, why);
    if (!s.ok() && s.code() != StatusCode::kWrongState && s.code() != StatusCode::kNotFound)
      return s;
  }
  if (running_only) return Status::Ok();
  auto pending = pool_.PendingTasks(a.ref, 0);
  if (!pending.ok()) return Status::Ok();
  for (TaskId id : *pending) {
    Status s = pool_.Reassign(id, me_);
    if (!s.ok() && s.code() != StatusCode::kWrongState && s.code() != StatusCode::kNotFound)
      return s;
  }
  return Status::Ok();
}

Status WorkerHealth::Sweep() {
  auto agents = pool_.ListAgents(std::chrono::milliseconds(cfg_.hung_after_ms));
  if (!agents.ok()) return agents.status();
  for (const AgentInfo& a : *agents) {
    if (a.team != cfg_.team) continue;  // another team's supervisor sees to it
    // A supervisor that died (a standby, or one before this leader) leaves
    // its row, and any backlog, to the leader.
    if (a.role == AgentRole::kSupervisor && (a.ref == me_ || a.liveness != Liveness::kGone))
      continue;
    if (a.liveness == Liveness::kGone) {
      spdlog::warn("{} '{}' (pid {}) is gone; {} running and {} queued tasks return to the "
                   "backlog",
                   AgentRoleName(a.role), a.name, a.pid, a.running, a.pending);
      Status s = pool_.Deregister(a.ref, me_,
                                  std::string(AgentRoleName(a.role)) + " '" + a.name + "' died");
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      hung_.erase(Key(a));
      continue;
    }
    if (!TakesTasks(a.role)) continue;
    if (a.liveness == Liveness::kStale) {
      if (hung_.insert(Key(a)).second)
        spdlog::warn("worker '{}' (pid {}) is hung: no heartbeat for {:.0f} ms; its tasks "
                     "return to the backlog",
                     a.name, a.pid, static_cast<double>(a.heartbeat_age_ns) / 1e6);
      if (a.running + a.pending > 0) {
        const std::string why = "worker '" + a.name + "' hung (no heartbeat for " +
                                std::to_string(a.heartbeat_age_ns / 1'000'000) + " ms)";
        if (Status s = TakeBack(a, why, false); !s.ok()) return s;
      }
      continue;
    }
    if (hung_.erase(Key(a))) spdlog::info("worker '{}' is back", a.name);
  }
  auto expired = pool_.ExpiredLeases();
  if (!expired.ok()) return expired.status();
  for (const TaskInfo& t : *expired) {
    if (TeamOf(*agents, t.assignee) != cfg_.team) continue;
    const std::string holder = AgentName(*agents, t.assignee);
    spdlog::warn("task {}: the lease of '{}' expired; back to the backlog", t.id, holder);
    Status s = pool_.Reassign(t.id, me_, "lease of worker '" + holder + "' expired");
    if (!s.ok() && s.code() != StatusCode::kWrongState && s.code() != StatusCode::kNotFound)
      return s;
  }
  return Status::Ok();
}

// Breaker changes are published in "progress" (tags "breaker",
// "agent:<name>") for monitors; the newest one per worker holds.
void WorkerHealth::PublishBreaker(const AgentInfo& a, const char* state) {
  NewEntry e;
  e.segment = segments::kProgress;
  e.tags = {"breaker", "agent:" + a.name};
  e.importance = 0.6f;
  e.author = "supervisor";
  e.payload = JsonToPayload({{"kind", "breaker"}, {"worker", a.name}, {"state", state}});
  (void)pool_.Write(e);
}

// Returns false while the breaker keeps the worker out of rotation.
bool WorkerHealth::UpdateBreaker(const AgentInfo& a, WorkerView* view) {
  if (cfg_.breaker_failures == 0) return true;
  Breaker& b = breakers_[Key(a)];
  const int64_t now = NowMonoNs();
  if (b.probation) {
    if (a.consecutive_failures == 0) {
      b = Breaker{};
      PublishBreaker(a, "closed");
      spdlog::info("circuit breaker: worker '{}' succeeded on probation; back in full rotation",
                   a.name);
    } else if (a.failed > b.failed_then) {
      b.probation = false;
      b.open = true;
      b.closed_at_ns = now + int64_t{cfg_.breaker_cooldown_ms} * 1'000'000;
      PublishBreaker(a, "open");
      spdlog::warn("circuit breaker: worker '{}' failed on probation; out again for {} ms",
                   a.name, cfg_.breaker_cooldown_ms);
    }
  } else if (!b.open && a.consecutive_failures >= cfg_.breaker_failures) {
    b.open = true;
    b.closed_at_ns = now + int64_t{cfg_.breaker_cooldown_ms} * 1'000'000;
    PublishBreaker(a, "open");
    spdlog::warn("circuit breaker: worker '{}' failed {} times in a row; out of rotation for "
                 "{} ms",
                 a.name, a.consecutive_failures, cfg_.breaker_cooldown_ms);
  }
  if (b.open && now >= b.closed_at_ns) {
    b.open = false;
    b.probation = true;
    b.failed_then = a.failed;
    PublishBreaker(a, "probation");
    spdlog::info("circuit breaker: worker '{}' back on probation", a.name);
  }
  if (b.open) return false;
  if (b.probation) view->max_load = 1;
  return true;
}

std::vector<WorkerView> WorkerHealth::Rotation() {
  std::vector<WorkerView> out;
  resting_.clear();
  auto agents = pool_.ListAgents(std::chrono::milliseconds(cfg_.hung_after_ms));
  if (!agents.ok()) return out;
  for (const auto& a : *agents) {
    if (!TakesTasks(a.role) || a.liveness != Liveness::kAlive || a.team != cfg_.team) continue;
    WorkerView v{a.ref, a.name, a.capabilities, a.pending + a.running};
    v.only_required = a.role == AgentRole::kSubSupervisor;
    (UpdateBreaker(a, &v) ? out : resting_).push_back(std::move(v));
  }
  return out;
}

std::set<std::string> WorkerHealth::Able(const std::string& cap) {
  std::set<std::string> names;
  const std::vector<WorkerView> rotation = Rotation();  // refreshes resting_ too
  for (const std::vector<WorkerView>* views : {&rotation, &std::as_const(resting_)})
    for (const WorkerView& w : *views)
      if (HasCapability(w, cap)) names.insert(w.name);
  return names;
}

bool WorkerHealth::AnyResting(const std::string& cap) const {
  return std::any_of(resting_.begin(), resting_.end(),
                     [&](const WorkerView& w) { return HasCapability(w, cap); });
}

}  // namespace slate::supervisor
