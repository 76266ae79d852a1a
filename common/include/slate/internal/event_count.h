// Waiting without polling, across processes: an event count on a shared
// futex word (FUTEX_WAIT/FUTEX_WAKE without the _PRIVATE flag, which would
// not cross processes).
//
// Waiter:   key = PrepareWait(e); if (!condition()) WaitFor(e, key, timeout);
// Notifier: make the condition true (under the pool lock), then Notify(e).
// A Notify after PrepareWait changes the word, so WaitFor returns at once:
// no lost wake-up. A waiter killed while asleep holds nothing: the kernel
// drops it from the futex queue and other waiters are woken as usual.
#pragma once

#include <cstdint>

#include "slate/internal/layout.h"

namespace slate::internal {

uint32_t PrepareWait(EventWord& e);
// Sleeps until the word moves off key, the timeout passes, or a signal.
// Returns false if a signal interrupted the sleep.
bool WaitFor(EventWord& e, uint32_t key, int64_t timeout_ns);
void Notify(EventWord& e);

}  // namespace slate::internal
