#include "slate/internal/robust_mutex.h"

#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "slate/clock.h"
#include "slate/internal/spin_wait.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace slate::internal {

Status InitRobustMutex(pthread_mutex_t* m) {
  pthread_mutexattr_t attr;
  int rc = pthread_mutexattr_init(&attr);
  if (rc == 0) rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  if (rc == 0) rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  if (rc == 0) rc = pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0)
    return {StatusCode::kIoError,
            std::string("cannot initialise the pool mutex: ") + strerror(rc)};
  return Status::Ok();
}

namespace {

LockOutcome OutcomeOf(int rc) {
  if (rc == 0) return LockOutcome::kAcquired;
  if (rc == EOWNERDEAD) return LockOutcome::kOwnerDied;
  if (rc == ENOTRECOVERABLE) return LockOutcome::kNotRecoverable;
  return LockOutcome::kFailed;
}

}  // namespace

// When an owner dies, the kernel marks the lock and wakes one waiter. If
// that waiter is killed before it takes the lock, the wake-up dies with
// it, and the other waiters would sleep on a free lock until some signal
// happened to wake them (seen once in the chaos suite: eleven minutes).
// So the wait is in slices; after each, the lock is looked at again.
constexpr int64_t kLockSliceNs = 50'000'000;

LockOutcome LockRobust(pthread_mutex_t* m) {
  for (;;) {
    timespec deadline{};
    clock_gettime(CLOCK_REALTIME, &deadline);  // the clock timedlock measures by
    const int64_t ns = deadline.tv_nsec + kLockSliceNs;
    deadline.tv_sec += ns / 1'000'000'000;
    deadline.tv_nsec = ns % 1'000'000'000;
    const int rc = pthread_mutex_timedlock(m, &deadline);
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer's timedlock interceptor records a lock only on a plain
    // success, unlike its lock and trylock ones: a lock taken from a dead
    // owner (EOWNERDEAD) it would take for unlocked, and report our unlock.
    if (rc == EOWNERDEAD) {
      __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
      __tsan_mutex_post_lock(m, __tsan_mutex_try_lock, 0);
    }
#endif
    if (rc != ETIMEDOUT) return OutcomeOf(rc);
  }
}

int ClaimSpinSlot(LockSpinners& s, int max, int64_t now) {
  for (int i = 0; i < max && i < kMaxLockSpinners; ++i) {
    int64_t seen = s.started[i].load(std::memory_order_relaxed);
    if (seen != 0 && now - seen < kStaleSpinNs) continue;
    if (s.started[i].compare_exchange_strong(seen, now, std::memory_order_relaxed)) return i;
  }
  return -1;
}

void ReleaseSpinSlot(LockSpinners& s, int slot, int64_t now) {
  int64_t mine = now;
  s.started[slot].compare_exchange_strong(mine, 0, std::memory_order_relaxed);
}

LockOutcome LockRobustSpinning(pthread_mutex_t* m, const std::atomic<uint64_t>& held_seq,
                               LockSpinners& spinners, int max_spinners, int64_t budget_ns) {
  int rc = pthread_mutex_trylock(m);
  if (rc != EBUSY) return OutcomeOf(rc);
  if (max_spinners <= 0) return LockRobust(m);
  const int64_t start = NowMonoNs();
  const int slot = ClaimSpinSlot(spinners, max_spinners, start);
  if (slot < 0) return LockRobust(m);
  // No yield: there are fewer spinners than CPUs, so they never keep the
  // holder off one (a yielding spin measured worse).
  const bool got = SpinUntil(
      [&] {
        if (held_seq.load(std::memory_order_relaxed) & 1) return false;
        rc = pthread_mutex_trylock(m);
        return rc != EBUSY;
      },
      budget_ns, /*yield=*/false);
  ReleaseSpinSlot(spinners, slot, start);
  return got ? OutcomeOf(rc) : LockRobust(m);
}

void MarkConsistent(pthread_mutex_t* m) { pthread_mutex_consistent(m); }

void UnlockRobust(pthread_mutex_t* m) { pthread_mutex_unlock(m); }

}  // namespace slate::internal
