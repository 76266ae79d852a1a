// The free space of the cell arena below Counters::cell_high: maximal runs
// of free cells ("free extents"), listed by size class, and the cell map.
//
// A free extent of n cells keeps {next, prev, n} in its first cell and n
// again in the last 4 bytes of its last cell (the footer: the extent after
// it finds its start from there, to merge). Size classes: class n for n < 64
// cells, then four per power of two, so every extent in class FitClassOf(n)
// or above has at least n cells and a fit is one bit scan.
//
// INVARIANT: every cell below cell_high is either set in the cell map (live
// data holds it) or in exactly one listed free extent, and no two listed
// extents touch (Release merges). Cells at and past cell_high are clear in
// the map and on no list.
//
// Everything here is DERIVED: Rebuild() clears the lists, marks the map from
// the live slots and calls RelistFromMap(). A holder that dies halfway
// through a change here leaves nothing the rebuild does not redo. Every
// method checks the headers, footers and links it follows, and throws
// RegionCorrupt on one that disagrees.
// REQUIRES for every method: the pool mutex held (or a private snapshot).
#pragma once

#include <cstdint>

#include "slate/internal/region.h"

namespace slate::internal {

class FreeCells {
 public:
  explicit FreeCells(const Region& r) : r_(r) {}

  // The class an extent of n cells (n > 0) is listed in.
  static uint32_t ClassOf(uint32_t n);
  // The first class whose extents all have at least n cells (n > 0), or
  // kCellClasses when no class is that large.
  static uint32_t FitClassOf(uint32_t n);

  // A listed extent of at least n cells, or kNil; *got is its size.
  uint32_t FitOf(uint32_t n, uint32_t* got) const;
  // Takes n cells off the end of the extent FitOf finds, marks them and
  // returns the first; kNil when none fits. What is left of the extent
  // keeps its start, and its list unless its size class changed.
  uint32_t Carve(uint32_t n);
  // The same for the extent at the head of the largest non-empty class.
  uint32_t TakeLargest(uint32_t* got);
  // Lists [first, first + n), which must touch no listed extent: a part
  // of one just taken, split off.
  void List(uint32_t first, uint32_t n);
  // Frees [first, first + n), whose map bits must all be set: clears
  // them, merges with a free neighbour on either side, lists the result.
  void Release(uint32_t first, uint32_t n);

  void Mark(uint32_t first, uint32_t n);
  void Unmark(uint32_t first, uint32_t n);
  // True when any of [first, first + n) is set in the map.
  bool AnyMarked(uint32_t first, uint32_t n) const;
  bool Marked(uint32_t cell) const;
  // Lists every maximal unmarked run below cell_high. REQUIRES: the lists
  // empty (Rebuild reset them).
  void RelistFromMap();

  // Cells in listed extents (Derived::free_extents of them).
  uint64_t ListedCells() const;

 private:
  struct Head {
    uint32_t next;
    uint32_t prev;
    uint32_t cells;
  };
  Head ReadHead(uint32_t first, const char* what) const;
  // The first non-empty class at or above c, or kCellClasses.
  uint32_t FirstClassFrom(uint32_t c) const;
  // FitOf, with the extent's head read.
  uint32_t FitHead(uint32_t n, Head* h) const;
  // The listed extent at first (head h) now spans `cells` from first.
  void Resize(uint32_t first, const Head& h, uint32_t cells);
  uint32_t Footer(uint32_t last) const;
  // Writes n as the footer of the extent [first, first + n).
  void SetFooter(uint32_t first, uint32_t n);
  void Unlink(uint32_t first, const Head& h);
  void SetPrev(uint32_t first, uint32_t prev);
  void SetNext(uint32_t first, uint32_t next);

  const Region& r_;  // outlives this helper
};

}  // namespace slate::internal
