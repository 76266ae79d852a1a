// A bounded spin before sleeping. Waking a process that sleeps in the
// kernel costs tens of microseconds on an idle virtual CPU, far more than
// the pool operation it waits for; spinning a little first lets a waiter
// catch an event that arrives within the budget without a syscall on
// either side. Bounded, so an idle waiter soon sleeps and burns nothing.
#pragma once

#include <sched.h>

#include <cstdint>

#include "slate/clock.h"

namespace slate::internal {

// Spin budget per wait. Long enough to cover one pool operation on the
// other side plus a cache-line transfer; short enough that an idle group
// spends well under 0.1% of a core on it.
inline constexpr int64_t kSpinBudgetNs = 40'000;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// CPUs this process may run on (its affinity mask), at least 1.
int UsableCpus();

// Polls done() until it returns true (then true) or the budget passes
// (then false). Reads the clock once per 32 polls.
// By default it yields the CPU between rounds: when processes outnumber
// cores (a producer and two workers on two), a pure spin would keep the
// very process it waits for off the CPU. A caller that knows it leaves a
// CPU free (the lock's spinners, robust_mutex.h) spins without yielding.
template <typename Done>
bool SpinUntil(Done done, int64_t budget_ns = kSpinBudgetNs, bool yield = true) {
  const int64_t end = NowMonoNs() + budget_ns;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (done()) return true;
      CpuRelax();
    }
    if (NowMonoNs() >= end) return false;
    if (yield) sched_yield();
  }
}

}  // namespace slate::internal
