// A task slot's times in few bytes (layout.h, TaskFields): millisecond
// counts, converted here and nowhere else.
//
// - The deadline is 40-bit signed milliseconds after the slot's created_ns,
//   the post, rounded down, so a task is never started after its deadline
//   (at most 1 ms before it). One further than kDeadlineReachMs either way
//   is kept at that reach, 16 years.
// - A lease deadline is CLOCK_MONOTONIC milliseconds modulo 2^32, rounded
//   up, compared with wrap-around: correct while every lease is shorter
//   than kLeaseReachMs, which ClaimBatch and RenewLease require.
#pragma once

#include <cstdint>
#include <limits>

#include "slate/internal/layout.h"

namespace slate::internal {

inline constexpr int64_t kNsPerMs = 1'000'000;
// 24 days: below 2^31 ms (24.8 days).
inline constexpr int64_t kLeaseReachMs = int64_t{24} * 24 * 3600 * 1000;
// 16 years: below 2^39 ms (17.4 years).
inline constexpr int64_t kDeadlineReachMs = int64_t{16} * 365 * 24 * 3600 * 1000;
// deadline_hi:deadline_lo of a task without a deadline.
inline constexpr int64_t kNoDeadlineMs = -(int64_t{1} << 39);

inline int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// deadline_ns 0: none.
inline void SetDeadline(TaskFields* t, int64_t deadline_ns, int64_t created_ns) {
  int64_t ms = kNoDeadlineMs;
  if (deadline_ns != 0) {
    // Halved first: the difference of two int64 times may not fit.
    const int64_t half = deadline_ns / 2 - created_ns / 2;
    ms = half > kDeadlineReachMs * kNsPerMs / 2    ? kDeadlineReachMs
         : half < -kDeadlineReachMs * kNsPerMs / 2 ? -kDeadlineReachMs
                                                   : FloorDiv(deadline_ns - created_ns, kNsPerMs);
  }
  t->deadline_hi = static_cast<int8_t>(ms >> 32);
  t->deadline_lo = static_cast<uint32_t>(ms);
}

inline int64_t DeadlineMs(const TaskFields& t) {
  return int64_t{t.deadline_hi} * (int64_t{1} << 32) + t.deadline_lo;
}

inline bool HasDeadline(const TaskFields& t) { return DeadlineMs(t) != kNoDeadlineMs; }

// 0: none.
inline int64_t DeadlineNs(const TaskFields& t, int64_t created_ns) {
  return HasDeadline(t) ? created_ns + DeadlineMs(t) * kNsPerMs : 0;
}

inline bool PastDeadline(const TaskFields& t, int64_t created_ns, int64_t now_ns) {
  const int64_t deadline = DeadlineNs(t, created_ns);
  return deadline != 0 && now_ns > deadline;
}

inline uint32_t LeaseMs(int64_t lease_deadline_mono_ns) {
  return static_cast<uint32_t>((lease_deadline_mono_ns + kNsPerMs - 1) / kNsPerMs);
}

// The lease deadline in CLOCK_MONOTONIC ns, from its 32 bits and a recent
// reading of the clock.
inline int64_t LeaseDeadlineNs(uint32_t lease_ms, int64_t now_mono_ns) {
  const int64_t now_ms = now_mono_ns / kNsPerMs;
  const auto ahead = static_cast<int32_t>(lease_ms - static_cast<uint32_t>(now_ms));
  return (now_ms + ahead) * kNsPerMs;
}

inline bool LeaseExpired(uint32_t lease_ms, int64_t now_mono_ns) {
  return LeaseDeadlineNs(lease_ms, now_mono_ns) < now_mono_ns;
}

// A done task's result_gap: result id - task id, or 0 when that needs more
// than 32 bits (ResultIdOf then looks the result up).
inline uint32_t ResultGap(uint64_t task_id, uint64_t result_id) {
  const uint64_t gap = result_id - task_id;
  return gap <= std::numeric_limits<uint32_t>::max() ? static_cast<uint32_t>(gap) : 0;
}

}  // namespace slate::internal
