// Urgent work taking the place of less urgent running work. When no
// capable worker is idle, a ready task preempts the least urgent
// preemptible running task lower than it by at least the margin, on a
// worker that can take it; Pool::Preempt requeues that task (it keeps its
// retries) and its worker stops it at once.
//
// A ready task preempts by its priority alone: waiting never makes equal
// work preempt equal work (two requests would take workers from each
// other in turn). A running task is as urgent as it was when placed
// (fair_share.h): its priority, plus the steps its request had waited
// unserved; its priority when that is not known (placed by a supervisor
// before this one). So work that had to wait its way up is not preempted
// the moment it starts, which is what makes low work always finish, while
// a long request's tasks, placed as soon as they were ready, stay
// preemptible however old the request is.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "schedule/delegator.h"
#include "slate/pool.h"

namespace slate::supervisor {

class Preemption {
 public:
  // margin 0: never preempt.
  Preemption(Pool& pool, AgentRef me, uint32_t margin)
      : pool_(pool), me_(me), margin_(margin) {}

  // Task t went to a worker at this urgency: it keeps it while it runs.
  void Placed(const TaskInfo& t, int64_t urgency);
  // The tasks of a request that finished.
  void Forget(const std::function<bool(TaskId)>& finished);

  // A delegation pass begins: the running tasks are read again when needed.
  void NewPass() { victims_.reset(); }
  // The worker freed for task t, or nullopt when a capable worker is idle
  // or no running task may be preempted for it.
  Result<std::optional<AgentRef>> For(const TaskInfo& t, const std::vector<WorkerView>& workers);
  // With every worker full, only preemption can place a task, and only one
  // whose priority is above the least urgent running task by the margin.
  bool OnlyPreemptionCanPlace(int64_t priority, const std::vector<WorkerView>& workers,
                              const Delegator& delegator);

 private:
  struct Victim {
    int64_t urgency;
    TaskId task;
    size_t worker;  // in the pass's rotation
  };
  // The rotation's running tasks, least urgent first, read once a pass.
  std::vector<Victim>& Victims(const std::vector<WorkerView>& workers);

  Pool& pool_;
  AgentRef me_;
  uint32_t margin_;
  std::optional<std::vector<Victim>> victims_;  // this pass's
  // Urgencies of placement above the task's priority (the rest are it).
  std::map<TaskId, int64_t> placed_at_;
};

}  // namespace slate::supervisor
