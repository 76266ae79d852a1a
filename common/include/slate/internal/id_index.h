// id -> slot: a chained hash table (DERIVED). Buckets live in the region's
// hash array; chains run through Slot::hash_next. Ids are dense and
// monotonic, so id modulo a power of two spreads them evenly.
// REQUIRES: the pool mutex held (or a private snapshot).
#pragma once

#include <cstdint>

#include "slate/internal/region.h"

namespace slate::internal {

class IdIndex {
 public:
  explicit IdIndex(const Region& r) : r_(r) {}

  void Insert(uint32_t slot);
  void Erase(uint32_t slot);
  // Slot of a live entry with this id, or kNil. A damaged chain throws
  // RegionCorrupt rather than answer "not found" for an entry it skipped.
  uint32_t Find(uint64_t id) const;
  uint32_t Bucket(uint64_t id) const {
    return static_cast<uint32_t>(id & (r_.geo().hash_buckets - 1));
  }

 private:
  const Region& r_;  // outlives this helper
};

}  // namespace slate::internal
