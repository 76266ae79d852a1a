// Urgent work taking the place of less urgent running work. When no
// capable worker is idle, a ready task preempts the least urgent
// preemptible running task lower than it by at least the margin, on a
// worker that can take it; Pool::Preempt requeues that task (it keeps its
// retries) and its worker stops it at once. Urgency is urgency.h's, so a
// task that waited long is not preempted the moment it starts.
#pragma once

#include <optional>
#include <vector>

#include "schedule/delegator.h"
#include "slate/pool.h"

namespace slate::supervisor {

class Preemption {
 public:
  // margin 0: never preempt.
  Preemption(Pool& pool, AgentRef me, uint32_t margin, uint32_t age_ms)
      : pool_(pool), me_(me), margin_(margin), age_ms_(age_ms) {}

  // A delegation pass begins: the running tasks are read again when needed.
  void NewPass() { victims_.reset(); }
  // The worker freed for task t (whose urgency is given), or nullopt when
  // a capable worker is idle or no running task may be preempted for it.
  Result<std::optional<AgentRef>> For(TaskId id, const TaskInfo& t, int64_t urgency,
                                      const std::vector<WorkerView>& workers);
  // With every worker full, only preemption can place a task, and only one
  // more urgent than the least urgent running task by the margin.
  bool OnlyPreemptionCanPlace(int64_t urgency, const std::vector<WorkerView>& workers,
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
  uint32_t age_ms_;
  std::optional<std::vector<Victim>> victims_;  // this pass's
};

}  // namespace slate::supervisor
