// How urgent a ready task is within its request: its priority, aged by its
// wait. A request's backlog goes out most urgent first (which request goes
// next is fair_share.h's, what preempts is preemption.h's).
#pragma once

#include <cstdint>
#include <vector>

#include "slate/task.h"

namespace slate::supervisor {

// The task's priority plus one for each age_ms since it was posted, so
// whatever keeps arriving, a waiting task's turn comes (age_ms 0: the
// priority alone).
int64_t Urgency(const TaskInfo& t, int64_t now_real_ns, uint32_t age_ms);

struct Ranked {
  int64_t urgency;
  TaskInfo task;
};

// Most urgent first; equally urgent tasks keep their order (the pool's:
// priority, then age, which tasks posted together already have).
std::vector<Ranked> RankByUrgency(std::vector<TaskInfo> tasks, int64_t now_real_ns,
                                  uint32_t age_ms);

}  // namespace slate::supervisor
