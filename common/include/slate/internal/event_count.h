// Waiting without polling, across processes: an event count on a shared
// futex word (FUTEX_WAIT/FUTEX_WAKE without the _PRIVATE flag, which would
// not cross processes).
//
// Waiter:   key = PrepareWait(e); if (!condition()) WaitFor(e, key, timeout);
// A waiter may spin first without announcing itself: seen = ObserveEvents(e);
// if (!condition() && !SpinUntilEvent(e, seen)) { PrepareWait ... as above }.
// AwaitEvent below is that whole protocol; waiters use it.
// Notifier: make the condition true (under the pool lock), then Notify(e).
// A Notify after PrepareWait changes the word, so WaitFor returns at once:
// no lost wake-up. A waiter killed while asleep holds nothing: the kernel
// drops it from the futex queue and other waiters are woken as usual.
#pragma once

#include <cstdint>

#include "slate/clock.h"
#include "slate/internal/layout.h"

namespace slate::internal {

// The event count alone, for a spin phase before PrepareWait.
uint32_t ObserveEvents(const EventWord& e);
// Spins (bounded, see spin_wait.h) until the count moves off `seen`.
// True if it did; false: the caller should PrepareWait and sleep.
bool SpinUntilEvent(const EventWord& e, uint32_t seen);
uint32_t PrepareWait(EventWord& e);
// Sleeps until the word moves off key, the timeout passes, or a signal.
// Returns false if a signal interrupted the sleep.
bool WaitFor(EventWord& e, uint32_t key, int64_t timeout_ns);
void Notify(EventWord& e);

// Calls attempt() until it returns true; between tries, spins (if `spin`)
// while nothing is notified, then announces itself and sleeps. Returns when
// attempt() succeeds, the monotonic deadline passes (a passed deadline: one
// try) or a signal interrupts the sleep. The waiters bit is set only before
// a sleep, so a notifier makes the syscall only for a real sleeper.
template <typename Attempt>
void AwaitEvent(EventWord& e, int64_t deadline_mono_ns, bool spin, Attempt attempt) {
  for (;;) {
    const uint32_t seen = ObserveEvents(e);
    if (attempt() || NowMonoNs() >= deadline_mono_ns) return;
    if (spin && SpinUntilEvent(e, seen)) continue;
    const uint32_t key = PrepareWait(e);
    if (attempt()) return;
    const int64_t left = deadline_mono_ns - NowMonoNs();
    if (left <= 0 || !WaitFor(e, key, left)) return;  // timed out or signalled
  }
}

}  // namespace slate::internal
