// Clocks shared by every process of a group on one host.
//
// Wall time (CLOCK_REALTIME) stamps entries for people; monotonic time
// (CLOCK_MONOTONIC, one clock per boot, the same in every process) drives
// leases and heartbeats so that a clock step cannot expire or revive them.
#pragma once

#include <cstdint>
#include <ctime>

namespace slate {

inline int64_t NowRealNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t NowMonoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace slate
