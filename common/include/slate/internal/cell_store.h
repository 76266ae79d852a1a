// Entry data: inline in its slot first (layout.h, InlineBytes), the rest in
// the cell arena of 16-byte cells, one extent per entry.
//
// The cell part of an entry's data is one run of CellsFor(bytes) cells from
// Slot::first_cell when a free extent (or the untouched cells past
// cell_high) is large enough. When none is, because free space is split into pieces, it is a
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

// Where an entry's data is; read out of a slot once, so a reader works
// from one consistent reading of fields a scribbler could change. `head`
// points into the slot it was read from (a live slot, or a reader's copy,
// which must outlive the DataRef).
struct DataRef {
  uint32_t first = kNil;  // first cell; kNil when no byte is in cells
  uint32_t bytes = 0;     // in all: inline, then in cells
  bool chained = false;
  const uint8_t* head = nullptr;  // the inline part
  uint32_t head_bytes = 0;

  uint32_t CellBytes() const { return bytes - head_bytes; }
  static DataRef Of(const Slot& s) {
    const uint32_t inline_bytes = std::min(s.data_bytes, InlineBytes(s.segment));
    return {s.first_cell, s.data_bytes, (s.flags & kChained) != 0,
            s.kind.raw + InlineOffset(s.segment), inline_bytes};
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

  // The bytes of `data_bytes` of a new entry in `segment` that go to cells.
  static uint32_t CellBytesFor(uint32_t segment, size_t data_bytes) {
    return static_cast<uint32_t>(data_bytes - std::min<size_t>(data_bytes, InlineBytes(segment)));
  }

  // True when Alloc(bytes) would find room now.
  bool Fits(uint32_t bytes) const;
  // The end of the cells past cell_high that Alloc(bytes) may take: they
  // must have pages first (region_backing.h).
  uint32_t FreshEnd(uint32_t bytes) const;
  // Cells for bytes > 0, all of d in cells. REQUIRES: Fits(bytes); in a
  // Txn (it raises cell_high).
  DataRef Alloc(uint32_t bytes);
  // Writes d's cell part: data's bytes from d.head_bytes on.
  void Write(const DataRef& d, std::span<const uint8_t> data);
  // Alloc and Write, all in cells; no cells for no data. REQUIRES: as Alloc.
  DataRef Store(std::span<const uint8_t> data);
  // As Store, the first InlineBytes(s.segment) bytes in s itself; points s
  // at the data. REQUIRES: s.segment set, s saved in the transaction,
  // Fits(CellBytesFor(s.segment, data.size())) unless that is 0.
  void StoreIn(Slot& s, std::span<const uint8_t> data);
  // Returns d's cells to the free space. Throws RegionCorrupt on a chain
  // that leaves the cells handed out.
  void Free(const DataRef& d);

  // Copies up to max_bytes of d into out. Validates every extent it
  // follows; false if one leaves the arena. d.head must still be valid.
  bool Read(const DataRef& d, uint32_t max_bytes, std::vector<uint8_t>* out) const;
  // Copies bytes [offset, offset + len) of d to dst. Validates as Read;
  // false also when the range passes d.bytes.
  bool ReadRange(const DataRef& d, uint32_t offset, uint32_t len, uint8_t* dst) const;

  // Calls f(first, cells) for every extent of d's cell part, after
  // checking that it lies below `limit`; false (having called f for those
  // before it) at the first that does not.
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
  if (d.CellBytes() == 0) return true;
  if (!d.chained) {
    const uint32_t n = CellsFor(d.CellBytes());
    if (!r_.ValidCells(d.first, n) || d.first + n > limit) return false;
    f(d.first, n);
    return true;
  }
  // Each extent carries at least 8 bytes, so the walk is bounded by bytes.
  uint32_t at = d.first;
  for (uint32_t left = d.CellBytes(); left > 0;) {
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
