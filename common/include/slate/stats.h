// A plain snapshot of what a pool holds, for dump, monitor and tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "slate/task.h"

namespace slate {

struct SegmentStats {
  std::string name;
  uint64_t entries = 0;
  uint64_t bytes = 0;      // data bytes: author, tags and payload
  uint64_t evictions = 0;
};

struct PoolStats {
  std::string name;
  uint64_t region_bytes = 0;
  uint32_t slot_capacity = 0;
  uint64_t entries = 0;
  uint64_t live_entries = 0;      // never evictable right now
  uint64_t data_bytes_total = 0;  // the cell arena
  uint64_t data_bytes_used = 0;   // in cells entries hold
  uint64_t data_free_extents = 0;  // free space below the high-water mark, in pieces
  std::vector<SegmentStats> segments;
  std::array<uint64_t, kTaskStateCount> tasks_by_state{};  // by TaskState
  uint32_t agents_registered = 0;
  uint32_t agent_capacity = 0;
  uint32_t authors_kept = 0;  // names in the author table; later authors stay in their entries
  uint32_t author_rows = 0;   // its capacity
  uint64_t next_id = 0;
  uint64_t evictions = 0;
  uint64_t recoveries = 0;   // rollbacks and rebuilds: a dead holder or damage
  uint64_t quarantined = 0;  // slots kept out of use: their entries were damaged
  uint64_t stale_completions = 0;
  uint64_t commits = 0;
  // The supervisors' lead (Pool::Leader has its holder's name and life).
  uint64_t lead_term = 0;          // 0: never held
  AgentRef lead_holder;            // row 0: nobody
  int64_t lead_expires_in_ns = 0;  // negative once expired
  uint64_t lead_refused = 0;       // operations refused under a term that was over
};

}  // namespace slate
