#include "slate/internal/robust_mutex.h"

#include <cerrno>
#include <cstring>
#include <string>

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

LockOutcome LockRobust(pthread_mutex_t* m) {
  const int rc = pthread_mutex_lock(m);
  if (rc == 0) return LockOutcome::kAcquired;
  if (rc == EOWNERDEAD) return LockOutcome::kOwnerDied;
  if (rc == ENOTRECOVERABLE) return LockOutcome::kNotRecoverable;
  return LockOutcome::kFailed;
}

void MarkConsistent(pthread_mutex_t* m) { pthread_mutex_consistent(m); }

void UnlockRobust(pthread_mutex_t* m) { pthread_mutex_unlock(m); }

}  // namespace slate::internal
