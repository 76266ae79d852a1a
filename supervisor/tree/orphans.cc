#include "tree/orphans.h"

#include <spdlog/spdlog.h>

#include "request/request_store.h"

namespace slate::supervisor {

Result<size_t> CancelOrphans(Pool& pool, const std::string& team) {
  auto active = FindActiveRequests(pool, team);
  if (!active.ok()) return active.status();
  size_t cancelled = 0;
  for (RequestRecord& req : *active) {
    if (req.parent == 0 || req.cancelled) continue;
    auto parent = pool.GetTask(req.parent);
    // A parent gone from the pool ended long ago.
    if (parent.ok() && !IsFinal(parent->state)) continue;
    const std::string why =
        "its parent task " + std::to_string(req.parent) + " is " +
        (parent.ok() ? std::string(TaskStateName(parent->state)) : std::string("gone"));
    spdlog::warn("team '{}': cancelling sub-request {}: {}", team, req.id, why);
    req.cancelled = true;
    if (Status s = SaveRequest(pool, req); !s.ok()) return s;
    auto ids = TaskIdsOf(pool, req.id);
    if (!ids.ok()) return ids.status();
    for (TaskId id : *ids) {
      auto t = pool.GetTask(id);
      if (!t.ok() || IsFinal(t->state)) continue;
      auto r = pool.EndTask(id, TaskState::kCancelled, "cancelled: " + why);
      if (!r.ok() && r.status().code() != StatusCode::kWrongState &&
          r.status().code() != StatusCode::kNotFound)
        return r.status();
    }
    ++cancelled;
  }
  return cancelled;
}

}  // namespace slate::supervisor
