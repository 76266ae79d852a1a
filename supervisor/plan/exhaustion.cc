#include "plan/exhaustion.h"

#include <spdlog/spdlog.h>

#include "slate/internal/crash_point.h"

namespace slate::supervisor {
namespace {

bool MovedOn(const Status& s) {
  return s.code() == StatusCode::kWrongState || s.code() == StatusCode::kNotFound;
}

}  // namespace

Status Exhaustion::Apply(TaskId task, const std::string& reason) {
  auto entry = pool_.Read(task);
  if (!entry.ok()) return MovedOn(entry.status()) ? Status::Ok() : entry.status();
  switch (PolicyOf(*entry, req_)) {
    case OnExhausted::kReview: {
      spdlog::warn("task {} held for review: {} (answer it with: slate-launch review --pool {})",
                   task, reason, pool_.name());
      auto held = pool_.Hold(task, reason);
      return held.ok() || MovedOn(held.status()) ? Status::Ok() : held.status();
    }
    case OnExhausted::kFailRequest:
      return FailRequest(task, reason);
    case OnExhausted::kDeadLetter:
      break;
  }
  spdlog::warn("task {} dead-lettered: {}", task, reason);
  internal::MaybeCrash("supervisor", "dead_letter");
  auto dl = pool_.DeadLetter(task, reason);
  return dl.ok() || MovedOn(dl.status()) ? Status::Ok() : dl.status();
}

Status Exhaustion::FailRequest(TaskId cause, const std::string& reason) {
  if (req_.failed_by == 0) {
    req_.failed_by = cause;
    if (Status s = SaveRequest(pool_, req_); !s.ok()) return s;
  }
  spdlog::error("request {} fails: task {} is exhausted: {}", req_.id, cause, reason);
  auto dl = pool_.DeadLetter(cause, reason + "; on_exhausted fail-request: the request stops");
  if (!dl.ok() && !MovedOn(dl.status())) return dl.status();
  return Resume();
}

Status Exhaustion::Resume() {
  if (req_.failed_by == 0 && !req_.cancelled) return Status::Ok();
  std::string cause = "task " + std::to_string(req_.failed_by);
  if (auto e = pool_.Read(req_.failed_by); e.ok())
    for (const auto& t : e->tags)
      if (t.rfind("id:", 0) == 0) cause = "line '" + t.substr(3) + "' (" + cause + ")";
  const std::string why = req_.failed_by != 0
                              ? "the request failed: " + cause + " ran out of retries or iterations"
                              : "the request was cancelled";
  auto ids = TaskIdsOf(pool_, req_.id);
  if (!ids.ok()) return ids.status();
  for (TaskId id : *ids) {
    auto t = pool_.GetTask(id);
    if (!t.ok() || IsFinal(t->state)) continue;
    auto r = pool_.EndTask(id, TaskState::kCancelled, why);
    if (!r.ok() && !MovedOn(r.status())) return r.status();
  }
  return Status::Ok();
}

bool Exhaustion::Stopped() {
  if (req_.failed_by != 0 || req_.cancelled) return true;
  auto now = LoadRequest(pool_, req_.entry_id);
  if (now.ok()) {
    req_.failed_by = now->failed_by;
    req_.cancelled = now->cancelled;
  }
  return req_.failed_by != 0 || req_.cancelled;
}

}  // namespace slate::supervisor
