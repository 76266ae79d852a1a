// What becomes of a task whose retries or iterations ran out: its line's
// "on_exhausted", else the request's (request_store.h).
//   dead-letter   ended dead-lettered; the plan skips its dependents
//   review        held for a person (slate-launch review); the request
//                 stays open until the person answers
//   fail-request  the request stops: the record names the task
//                 (failed_by) first, then the task is dead-lettered and
//                 every unfinished task of the request is cancelled
// Each step is a pool transaction that is safe to repeat, and the record
// is written before anything is cancelled: a supervisor killed halfway is
// replaced by one whose Resume() finishes the cancelling.
#pragma once

#include <string>

#include "request/request_store.h"
#include "slate/pool.h"

namespace slate::supervisor {

class Exhaustion {
 public:
  // `req` is the run's record, updated in place when the request fails.
  Exhaustion(Pool& pool, RequestRecord& req) : pool_(pool), req_(req) {}

  // REQUIRES: the task is failed, pending or waiting.
  Status Apply(TaskId task, const std::string& reason);
  // Fail fast (same_failure_watch.h): the request stops as fail-request
  // stops it, whatever its on_exhausted; `cause` is dead-lettered with
  // `reason`. REQUIRES: cause is failed.
  Status FailFast(TaskId cause, const std::string& reason);
  // Cancels what is left of a request that failed or was cancelled.
  Status Resume();
  // True when the request was failed or cancelled: nothing new may start.
  // Reads the record (an operator's cancel comes from another process).
  bool Stopped();

 private:
  Status FailRequest(TaskId cause, const std::string& reason);
  Status Stop(TaskId cause, const std::string& why, bool fast);

  Pool& pool_;
  RequestRecord& req_;
};

}  // namespace slate::supervisor
