// Entry data in the cell arena: 16-byte cells, one extent per entry.
//
// An entry's data is one run of CellsFor(bytes) cells from Slot::first_cell
// when a free extent (or the untouched cells past cell_high) is large
// enough. When none is, because free space is split into pieces, it is a
// chain of extents and the slot has kChained: each extent starts with an
// 8-byte link {next extent's first cell, this extent's cells} and carries
// 16 * cells - 8 data bytes. So a write never fails for want of one
// large enough hole while enough free cells exist.
//
// A chain is walked only as far as its data_bytes need, so the link of its
// last extent is never read. Links are written into cells the allocating
// transaction took, which no live slot owned: a transaction rolled back
// leaves them unowned, and the rebuild frees them.
//
// Free space is FreeCells (DERIVED). Alloc takes from it and from the
// high-water mark (Counters::cell_high, AUTHORITATIVE: Alloc's transaction
// has saved the counters).
// REQUIRES for every method: the pool mutex held (or a private snapshot).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "slate/internal/region.h"

namespace slate::internal {

// Where an entry's data is; copied out of a slot once, so a reader works
// from one consistent reading of fields a scribbler could change.
struct DataRef {
  uint32_t first = kNil;  // kNil when bytes == 0
  uint32_t bytes = 0;
  bool chained = false;

  static DataRef Of(const Slot& s) {
    return {s.first_cell, s.data_bytes, (s.flags & kChained) != 0};
  }
  // Points s at this data. REQUIRES: s saved in the transaction.
  void SetIn(Slot& s) const {
    s.first_cell = first;
    s.data_bytes = bytes;
    s.flags = static_cast<uint8_t>((s.flags & ~kChained) | (chained ? kChained : 0));
  }
};

class CellStore {
 public:
  explicit CellStore(const Region& r) : r_(r) {}

  static uint32_t CellsFor(uint32_t bytes) { return (bytes + kCellBytes - 1) / kCellBytes; }

  // True when Alloc(bytes) would find room now.
  bool Fits(uint32_t bytes) const;
  // The end of the cells past cell_high that Alloc(bytes) may take: they
  // must have pages first (region_backing.h).
  uint32_t FreshEnd(uint32_t bytes) const;
  // Room for bytes > 0. REQUIRES: Fits(bytes); in a Txn (it raises
  // cell_high).
  DataRef Alloc(uint32_t bytes);
  // REQUIRES: d came from Alloc(data.size()).
  void Write(const DataRef& d, std::span<const uint8_t> data);
  // Alloc and Write; no cells for no data. REQUIRES: as Alloc.
  DataRef Store(std::span<const uint8_t> data);
  // Returns d's cells to the free space. Throws RegionCorrupt on a chain
  // that leaves the cells handed out.
  void Free(const DataRef& d);

  // Copies up to max_bytes of d into out. Validates every extent it
  // follows; false if one leaves the arena.
  bool Read(const DataRef& d, uint32_t max_bytes, std::vector<uint8_t>* out) const;
  // Copies bytes [offset, offset + len) of d to dst. Validates as Read;
  // false also when the range passes d.bytes.
  bool ReadRange(const DataRef& d, uint32_t offset, uint32_t len, uint8_t* dst) const;

  // Calls f(first, cells) for every extent of d, after checking that it
  // lies below `limit`; false (having called f for those before it) at
  // the first that does not.
  template <typename F>
  bool ForExtents(const DataRef& d, uint32_t limit, F f) const;

 private:
  struct Link {
    uint32_t next;
    uint32_t cells;
  };
  static constexpr uint32_t kLinkBytes = sizeof(Link);
  static uint32_t Capacity(uint32_t cells) { return cells * kCellBytes - kLinkBytes; }

  uint32_t Untouched() const;
  uint32_t TakeFresh(uint32_t n);
  DataRef Gather(uint32_t bytes);

  const Region& r_;  // outlives this helper
};

template <typename F>
bool CellStore::ForExtents(const DataRef& d, uint32_t limit, F f) const {
  if (d.bytes == 0) return true;
  if (!d.chained) {
    const uint32_t n = CellsFor(d.bytes);
    if (!r_.ValidCells(d.first, n) || d.first + n > limit) return false;
    f(d.first, n);
    return true;
  }
  // Each extent carries at least 8 bytes, so the walk is bounded by bytes.
  uint32_t at = d.first;
  for (uint32_t left = d.bytes; left > 0;) {
    if (!r_.ValidCell(at) || at >= limit) return false;
    Link link;
    std::memcpy(&link, r_.cell(at), sizeof link);
    if (link.cells == 0 || !r_.ValidCells(at, link.cells) || at + link.cells > limit) return false;
    f(at, link.cells);
    left -= std::min(left, Capacity(link.cells));
    at = link.next;
  }
  return true;
}

}  // namespace slate::internal
