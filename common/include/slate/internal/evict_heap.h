// The eviction order (DERIVED): a binary min-heap of the slots that may be
// evicted now, least important first, then oldest (lowest id). Slot::heap_pos
// is each member's position, kNil for non-members.
// REQUIRES: the pool mutex held (or a private snapshot).
#pragma once

#include <cstdint>

#include "slate/internal/region.h"

namespace slate::internal {

class EvictHeap {
 public:
  explicit EvictHeap(const Region& r) : r_(r) {}

  void Push(uint32_t slot);
  void Remove(uint32_t slot);  // no-op for a non-member
  uint32_t Top() const;        // kNil when empty
  // Reorders a member after its importance changed.
  void Fix(uint32_t slot);
  // True if a must leave before b.
  bool Before(uint32_t a, uint32_t b) const;

 private:
  void Place(uint32_t pos, uint32_t slot);
  // The slot's heap position, kNil for a non-member; RegionCorrupt when
  // the position and the heap disagree.
  uint32_t CheckedPos(uint32_t slot) const;
  uint32_t SiftUp(uint32_t pos);
  void SiftDown(uint32_t pos);

  const Region& r_;  // outlives this helper
};

}  // namespace slate::internal
