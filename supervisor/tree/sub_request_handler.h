// What a sub-supervisor runs for each task its parent hands it: the task
// becomes a sub-request of its team (tagged "parent:<task>"), which the
// team's GroupRun posts and runs exactly as a top-level request; the task
// is done with the sub-request's results (or what --synthesize makes of
// them), or fails with its summary when any subtask did not end done.
//
// Nothing of it lives outside the pool: a sub-supervisor that takes the
// task again (after its predecessor was killed, or the lease ran out)
// finds the sub-request by its tag and waits for the same one, whose done
// subtasks never run again; one that finds it finished completes the task
// at once. A sub-request that ended short is made anew on the next try.
#pragma once

#include <string>

#include "handler.h"
#include "supervisor_app.h"
#include "tree/subtasks.h"

namespace slate::supervisor {

class SubRequestHandler : public worker::Handler {
 public:
  SubRequestHandler(Pool& pool, const SupervisorConfig& cfg, Subtasks& subtasks)
      : pool_(pool), cfg_(cfg), subtasks_(subtasks) {}
  worker::Outcome Run(const worker::TaskInput& in, worker::RunControl& control) override;

 private:
  // The sub-request to wait for: the task's unfinished or well-finished
  // one, else a new one.
  Result<RequestRecord> SubRequestFor(const worker::TaskInput& in);
  worker::Outcome OutcomeOf(const worker::TaskInput& in, const RequestRecord& req,
                            const Entry& final_entry);

  Pool& pool_;
  const SupervisorConfig& cfg_;
  Subtasks& subtasks_;
};

}  // namespace slate::supervisor
