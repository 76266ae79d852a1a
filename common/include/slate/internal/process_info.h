// Process identity that survives pid reuse: pid plus start time.
#pragma once

#include <cstdint>

namespace slate::internal {

// Start time of pid in clock ticks since boot (/proc/<pid>/stat field 22),
// or 0 if there is no such process or it has exited (a zombie).
uint64_t ProcessStartTime(int pid);
// True while pid exists and is still the process that started at start_time.
// The first check of a process reads /proc and keeps a pidfd; later ones
// poll the pidfd (one system call). Thread-safe.
bool ProcessAlive(int pid, uint64_t start_time);

}  // namespace slate::internal
