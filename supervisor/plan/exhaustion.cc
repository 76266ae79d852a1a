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
  spdlog::error("request {} fails: task {} is exhausted: {}", req_.id, cause, reason);
  return Stop(cause, reason + "; on_exhausted fail-request: the request stops", false);
}

Status Exhaustion::FailFast(TaskId cause, const std::string& reason) {
  spdlog::error("request {} fails fast: {}", req_.id, reason);
  return Stop(cause, reason, true);
}

// The record first, then the cause's dead letter and the cancels, each
// safe to repeat: Resume() does the rest for a successor.
Status Exhaustion::Stop(TaskId cause, const std::string& why, bool fast) {
  if (req_.failed_by == 0) {
    req_.failed_by = cause;
    req_.failed_why = why;
    req_.failed_fast = fast;
    if (Status s = SaveRequest(pool_, req_); !s.ok()) return s;
  }
  internal::MaybeCrash("supervisor", "fail_request");
  return Resume();
}

Status Exhaustion::Resume() {
  if (req_.failed_by == 0 && !req_.cancelled) return Status::Ok();
  std::string cause = "task " + std::to_string(req_.failed_by);
  if (auto e = pool_.Read(req_.failed_by); e.ok())
    if (auto line = TagValue(*e, "id:")) cause = "line '" + *line + "' (" + cause + ")";
  const std::string why =
      req_.failed_by == 0 ? "the request was cancelled"
      : req_.failed_fast
          ? "the request failed fast: every worker failed its tasks as it failed " + cause
          : "the request failed: " + cause + " ran out of retries or iterations";
  if (req_.failed_by != 0) {
    auto dl = pool_.DeadLetter(req_.failed_by, req_.failed_why.empty() ? why : req_.failed_why);
    if (!dl.ok() && !MovedOn(dl.status())) return dl.status();
  }
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
    req_.failed_why = now->failed_why;
    req_.failed_fast = now->failed_fast;
    req_.cancelled = now->cancelled;
  }
  return req_.failed_by != 0 || req_.cancelled;
}

}  // namespace slate::supervisor
