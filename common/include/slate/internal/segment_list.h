// Per-segment list of live slots in ascending id order (DERIVED), with the
// segment's entry and byte counts. New entries always have the highest id, so
// Append keeps the order; Rebuild() relinks in sorted order.
// REQUIRES: the pool mutex held (or a private snapshot).
#pragma once

#include <cstdint>
#include <string_view>

#include "slate/internal/region.h"

namespace slate::internal {

class SegmentList {
 public:
  explicit SegmentList(const Region& r) : r_(r) {}

  void Append(uint32_t slot);
  void Unlink(uint32_t slot);
  // Walking a segment's list: each link is checked to be in range, to point
  // back, and to keep ids ascending (RegionCorrupt otherwise).
  uint32_t Head(uint32_t row) const;
  uint32_t Tail(uint32_t row) const;
  uint32_t Next(uint32_t slot) const;
  uint32_t Prev(uint32_t slot) const;
  // Row of the named segment, or kNil if it was never used.
  uint32_t Find(std::string_view name) const;
  // Row of the first unused segment, or kNil when the table is full.
  uint32_t FirstUnused() const;
  std::string_view Name(uint32_t row) const;

 private:
  const Region& r_;  // outlives this helper
};

}  // namespace slate::internal
