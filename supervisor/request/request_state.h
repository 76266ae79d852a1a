// One request of a group run: its record, its plan and its on_exhausted,
// the ids of its tasks, and whether every one of them is final.
//
// Everything here is DERIVED: Start() reads it from the pool, so a
// supervisor killed anywhere is replaced by one that finds the same.
// Its tasks are those tagged "req:<id>" when it starts, plus those its
// plan posts after (the only way a request gains tasks once posted).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "health/same_failure_watch.h"
#include "plan/exhaustion.h"
#include "plan/plan_run.h"
#include "request/request_store.h"
#include "slate/pool.h"

namespace slate::supervisor {

class RequestState {
 public:
  // REQUIRES: the request's tasks are posted. Lives at one address (its
  // plan refers to its record): hold it by pointer.
  RequestState(Pool& pool, RequestRecord req, AgentRef backlog, PlanRun::Placer place);
  RequestState(const RequestState&) = delete;
  RequestState& operator=(const RequestState&) = delete;

  // Finishes stopping a request failed or cancelled before, catches its
  // plan up, and reads its tasks' ids.
  Status Start();
  // Applies the results and endings recorded since the last call (a plan).
  Status Advance();
  // True when every task of the request is final, or gone from the pool
  // (the aggregate reports it lost). Costs one task read while the oldest
  // unfinished one is unfinished; each task is passed over once.
  Result<bool> AllFinal();
  // Tasks its plan has posted so far: a request whose tasks all looked
  // final is not finished if an Advance() since posted.
  uint64_t posted() const { return plan_ ? plan_->posted() : 0; }

  bool Owns(TaskId id) const;
  // Its smallest task id (0 before Start): where its share of the
  // supervisor's backlog begins.
  TaskId first_task() const { return ids_.empty() ? 0 : ids_.front(); }
  const RequestRecord& record() const { return req_; }
  Exhaustion& exhaustion() { return exhaustion_; }
  SameFailureWatch& same_failures() { return same_failures_; }
  // Whether a task of the request is done. Reads each task until one is:
  // asked once, when the request may be failing fast.
  Result<bool> AnyDone();

 private:
  void TakePlanPosts();

  Pool& pool_;
  RequestRecord req_;
  Exhaustion exhaustion_{pool_, req_};
  SameFailureWatch same_failures_;
  std::optional<PlanRun> plan_;
  std::vector<TaskId> ids_;  // ascending
  size_t final_ = 0;         // ids_[0, final_) are final
};

}  // namespace slate::supervisor
