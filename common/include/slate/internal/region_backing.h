// Pages of the slot and cell arrays, taken from the file only as the pool
// grows into them.
//
// Creation leaves both arrays as holes, so a large pool costs memory only
// for what it has used. Growing into a hole has two costs this hides:
//  - a first touch of a page that /dev/shm has no room for raises SIGBUS in
//    the middle of a transaction. The lock holder backs a window of pages
//    before the allocator hands out anything in it (EnsureLocked), and so
//    gets a clear kPoolFull instead;
//  - every process takes a page fault on its first touch of each page,
//    inside the lock if it holds it. Every writer maps what others backed
//    before it takes the lock (CatchUp), a window at a time.
//
// INVARIANT: Header::slots_backed and cells_backed only grow, and slots
// [0, slots_backed) with their heap rows and cells [0, cells_backed) with
// their cell map words have pages in the file. Both are lock-free: a holder that dies after backing
// and before publishing leaves pages the next one backs again, harmlessly.
#pragma once

#include <atomic>
#include <cstdint>

#include "slate/internal/region.h"
#include "slate/internal/shm_mapping.h"
#include "slate/status.h"

namespace slate::internal {

class RegionBacking {
 public:
  RegionBacking(const ShmMapping& map, const Region& r) : map_(map), r_(r) {}

  // Backs slots below slot_end and cells below cell_end, a window past
  // them at a time. REQUIRES: the pool lock held.
  Status EnsureLocked(uint32_t slot_end, uint32_t cell_end);
  // Maps into this process what is backed and not yet mapped here. Cheap
  // when there is nothing new: two atomic loads. Call without the lock.
  void CatchUp();

 private:
  const ShmMapping& map_;
  Region r_;
  // This process's page tables cover these (only grow; racing threads
  // map a range twice, harmlessly).
  std::atomic<uint32_t> slots_mapped_{0};
  std::atomic<uint32_t> cells_mapped_{0};
};

}  // namespace slate::internal
