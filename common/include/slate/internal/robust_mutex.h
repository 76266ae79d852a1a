// The pool lock: a process-shared, robust pthread mutex.
//
// A holder killed by SIGKILL does not deadlock the pool: the kernel marks the
// mutex, and the next Lock() reports kOwnerDied. That caller then owns the
// lock, must repair the region, and calls MarkConsistent() before unlocking.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "slate/internal/spin_wait.h"
#include "slate/status.h"

namespace slate::internal {

enum class LockOutcome { kAcquired, kOwnerDied, kNotRecoverable, kFailed };

// REQUIRES: m points into shared memory nobody else uses yet.
Status InitRobustMutex(pthread_mutex_t* m);
LockOutcome LockRobust(pthread_mutex_t* m);
void MarkConsistent(pthread_mutex_t* m);
void UnlockRobust(pthread_mutex_t* m);

// Who may spin for a busy mutex now (lock-free, in shared memory, one cache
// line). A slot holds the monotonic time its spinner started, 0 when free.
// A spin lasts kSpinBudgetNs, so a slot older than kStaleSpinNs belongs
// to a spinner that was killed or preempted, and may be taken over: a
// SIGKILLed spinner cannot switch spinning off for good.
inline constexpr int kMaxLockSpinners = 8;
inline constexpr int64_t kStaleSpinNs = 1'000'000;
struct alignas(64) LockSpinners {
  std::atomic<int64_t> started[kMaxLockSpinners];
};

// Takes a free or stale slot among the first `max` for a spin starting at
// `now`: its index, or -1 when all are taken. `now` is the token that
// ReleaseSpinSlot gives back; a slot taken over since is left alone.
int ClaimSpinSlot(LockSpinners& s, int max, int64_t now);
void ReleaseSpinSlot(LockSpinners& s, int slot, int64_t now);

// LockRobust, after a spin of at most `budget_ns` when the mutex is busy
// and one of the first `max_spinners` slots is free. The spinner reads
// `held_seq` (odd while a holder is inside, Header::change_seq) and tries
// the mutex when it turns even, so the lock passes to it without a futex
// sleep and wake. With max_spinners below the CPU count the holder always
// keeps a CPU.
LockOutcome LockRobustSpinning(pthread_mutex_t* m, const std::atomic<uint64_t>& held_seq,
                               LockSpinners& spinners, int max_spinners,
                               int64_t budget_ns = kSpinBudgetNs);

}  // namespace slate::internal
