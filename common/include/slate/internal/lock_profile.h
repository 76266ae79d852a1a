// Where the pool lock's time goes in this process, by kind of operation.
//
// Every pool operation runs under one robust mutex, so a group's task
// throughput is bounded by how long the lock is held per task, and the
// lock's idle gaps while someone waits for it are throughput lost to
// hand-offs. This profile measures both, for slate-bench --lock-profile.
//
// Off by default: a Guard then pays one relaxed load. On, each Guard reads
// the monotonic clock three times. Process-wide; a forked child inherits
// the setting and starts from the parent's tallies (reset them).
#pragma once

#include <atomic>
#include <cstdint>

namespace slate::internal {

enum class LockUse : uint8_t { kOther, kPost, kClaim, kComplete, kRead };
inline constexpr int kLockUses = 5;
const char* LockUseName(LockUse use);

struct LockUseTally {
  uint64_t holds = 0;
  uint64_t wait_ns = 0;  // from asking for the lock to holding it
  uint64_t hold_ns = 0;  // from holding it to just before unlocking
};

struct LockProfile {
  LockUseTally use[kLockUses];
  void Add(const LockProfile& other);
};

extern std::atomic<bool> g_lock_profile_on;
inline bool LockProfileOn() { return g_lock_profile_on.load(std::memory_order_relaxed); }
void EnableLockProfile(bool on);
void RecordLockUse(LockUse use, int64_t wait_ns, int64_t hold_ns);
// This process's tallies since the last take; resets them.
LockProfile TakeLockProfile();

}  // namespace slate::internal
