// Which request's ready task goes next when several requests share the
// group. Pure logic over one delegation pass; the group run (group_run.h)
// keeps what it needs between passes.
//
// Each request offers its most urgent ready task (its head). The head that
// goes next is the one with:
//   1. the highest priority (its line's plus its request's), raised by one
//      for each age_ms its request has waited since a task of it was last
//      placed: a request nobody serves climbs until it is served, so low
//      priority work always finishes, and a long request's age does not
//      keep a later one of equal priority waiting;
//   2. then the fewest tasks on workers (pending or running there): equal
//      requests get equal shares of the workers;
//   3. then the least recently served, then the one admitted first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace slate::supervisor {

struct Share {
  bool open = true;           // it still offers a head this pass
  int head_priority = 0;      // its head's priority, not aged
  int64_t served_ns = 0;      // monotonic: last placement, or admission
  uint32_t on_workers = 0;    // its tasks pending or running on workers
};

// The request whose head goes next (index into shares), nullopt when none
// is open.
std::optional<size_t> NextShare(std::span<const Share> shares, int64_t now_mono_ns,
                                uint32_t age_ms);

// A share's priority for step 1.
int64_t WaitedPriority(const Share& s, int64_t now_mono_ns, uint32_t age_ms);

}  // namespace slate::supervisor
