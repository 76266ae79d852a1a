// Process identity that survives pid reuse: pid plus start time.
#pragma once

#include <cstdint>

namespace slate::internal {

// Start time of pid in clock ticks since boot (/proc/<pid>/stat field 22),
// or 0 if there is no such process or it has exited (a zombie).
uint64_t ProcessStartTime(int pid);
// A pidfd for the process pid that started at start_time (O_CLOEXEC; it
// turns readable when that process exits, a zombie included), or -1: it is
// gone, the pid is another process's now, or pidfds are not supported
// (*unsupported is then set, if given).
int OpenPidfd(int pid, uint64_t start_time, bool* unsupported = nullptr);
// True while pid exists and is still the process that started at start_time.
// The first check of a process reads /proc and keeps a pidfd; later ones
// poll the pidfd (one system call). Thread-safe.
bool ProcessAlive(int pid, uint64_t start_time);

}  // namespace slate::internal
