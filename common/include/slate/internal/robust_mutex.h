// The pool lock: a process-shared, robust pthread mutex.
//
// A holder killed by SIGKILL does not deadlock the pool: the kernel marks the
// mutex, and the next Lock() reports kOwnerDied. That caller then owns the
// lock, must repair the region, and calls MarkConsistent() before unlocking.
#pragma once

#include <pthread.h>

#include "slate/status.h"

namespace slate::internal {

enum class LockOutcome { kAcquired, kOwnerDied, kNotRecoverable, kFailed };

// REQUIRES: m points into shared memory nobody else uses yet.
Status InitRobustMutex(pthread_mutex_t* m);
LockOutcome LockRobust(pthread_mutex_t* m);
void MarkConsistent(pthread_mutex_t* m);
void UnlockRobust(pthread_mutex_t* m);

}  // namespace slate::internal
