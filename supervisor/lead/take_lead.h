// Taking the pool's lead (Pool::AcquireLeadership) as a supervisor starts.
// Of supervisors started at once, exactly one leads: the lock makes the
// taking atomic. The others leave, or stand by (--standby) until the lead
// falls free: its holder's process exits (a pidfd wakes the wait at once)
// or its lease runs out (the holder is stopped or hung).
//
// The new leader fences its handle by its term (Pool::FenceByLead), then
// adopts every backlog a supervisor left: of those that died, and of a
// deposed leader that is still alive (stopped past its lease; a standby
// never holds a backlog). Deregistering a deposed leader also retires it:
// when it runs again, its first operation is refused and it stops.
#pragma once

#include <atomic>
#include <cstdint>

#include "slate/pool.h"

namespace slate::supervisor {

struct Lead {
  AgentRef me;
  uint64_t term = 0;
  bool took_over = false;  // stood by first: another supervisor led before
};

// kAlreadyExists (naming the leader) when another leads and `standby` is
// false; kTimedOut when `stop` was set while standing by. Heartbeats every
// heartbeat_ms while it waits. On any failure `me` is deregistered.
Result<Lead> TakeLead(Pool& pool, uint32_t lease_ms, uint32_t heartbeat_ms, bool standby,
                      const std::atomic<bool>& stop);

}  // namespace slate::supervisor
