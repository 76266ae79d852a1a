#include "slate/internal/lock_profile.h"

namespace slate::internal {
namespace {

// Relaxed atomics: any thread of the process may hold a Guard.
struct AtomicTally {
  std::atomic<uint64_t> holds{0}, wait_ns{0}, hold_ns{0};
};
AtomicTally g_tallies[kLockUses];

uint64_t NonNegative(int64_t ns) { return ns > 0 ? static_cast<uint64_t>(ns) : 0; }

}  // namespace

std::atomic<bool> g_lock_profile_on{false};

const char* LockUseName(LockUse use) {
  switch (use) {
    case LockUse::kOther: return "other";
    case LockUse::kPost: return "post";
    case LockUse::kClaim: return "claim";
    case LockUse::kComplete: return "complete";
    case LockUse::kRead: return "read";
  }
  return "unknown";
}

void LockProfile::Add(const LockProfile& other) {
  for (int i = 0; i < kLockUses; ++i) {
    use[i].holds += other.use[i].holds;
    use[i].wait_ns += other.use[i].wait_ns;
    use[i].hold_ns += other.use[i].hold_ns;
  }
}

void EnableLockProfile(bool on) { g_lock_profile_on.store(on, std::memory_order_relaxed); }

void RecordLockUse(LockUse use, int64_t wait_ns, int64_t hold_ns) {
  AtomicTally& t = g_tallies[static_cast<int>(use)];
  t.holds.fetch_add(1, std::memory_order_relaxed);
  t.wait_ns.fetch_add(NonNegative(wait_ns), std::memory_order_relaxed);
  t.hold_ns.fetch_add(NonNegative(hold_ns), std::memory_order_relaxed);
}

LockProfile TakeLockProfile() {
  LockProfile p;
  for (int i = 0; i < kLockUses; ++i) {
    p.use[i].holds = g_tallies[i].holds.exchange(0, std::memory_order_relaxed);
    p.use[i].wait_ns = g_tallies[i].wait_ns.exchange(0, std::memory_order_relaxed);
    p.use[i].hold_ns = g_tallies[i].hold_ns.exchange(0, std::memory_order_relaxed);
  }
  return p;
}

}  // namespace slate::internal
