// Typed access to a mapped region (or to a private copy of one).
//
// Region does no locking: callers hold the pool mutex, or work on a snapshot
// nobody else can see. The plain accessors do not bounds-check (callers pass
// indices they validated). Code that follows an index read from the region
// (a link, a row, a position) uses the Checked* accessors, which throw
// RegionCorrupt instead of following a bad one; the operation's boundary
// rolls back, rebuilds and quarantines (Pool::Impl::RepairLocked).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "slate/internal/layout.h"
#include "slate/pool_options.h"
#include "slate/status.h"

namespace slate::internal {

// Thrown where a lock holder or a reader finds the region in a state no
// protocol-following process could have left: a link out of range, lists
// that disagree, a slot whose seal fails. Never escapes the Pool API.
class RegionCorrupt : public std::runtime_error {
 public:
  explicit RegionCorrupt(const std::string& what) : std::runtime_error(what) {}
};

[[noreturn]] void ThrowCorrupt(const std::string& what);

class Region {
 public:
  Region(uint8_t* base, const Geometry& geo) : base_(base), geo_(geo) {}

  uint8_t* base() const { return base_; }
  const Geometry& geo() const { return geo_; }
  Header& header() const { return *reinterpret_cast<Header*>(base_); }
  SegmentRow& segment(uint32_t i) const {
    return reinterpret_cast<SegmentRow*>(base_ + geo_.off_segments)[i];
  }
  // row is 1-based: 0 names the shared queue, which has no agent row.
  AgentRow& agent(uint32_t row) const {
    return reinterpret_cast<AgentRow*>(base_ + geo_.off_agents)[row - 1];
  }
  Slot& slot(uint32_t i) const {
    return reinterpret_cast<Slot*>(base_ + geo_.off_slots)[i];
  }
  uint32_t* hash() const {
    return reinterpret_cast<uint32_t*>(base_ + geo_.off_hash);
  }
  uint32_t* heap() const {
    return reinterpret_cast<uint32_t*>(base_ + geo_.off_heap);
  }
  uint8_t* cell(uint32_t i) const {
    return base_ + geo_.off_cells + uint64_t{i} * kCellBytes;
  }
  uint64_t* cell_map() const {
    return reinterpret_cast<uint64_t*>(base_ + geo_.off_cell_map);
  }
  TaskQueue& queue(uint32_t row) const {
    return row == 0 ? header().shared_queue : agent(row).queue;
  }
  uint32_t SlotIndex(const Slot& s) const {
    return static_cast<uint32_t>(&s - &slot(0));
  }
  uint64_t OffsetOf(const void* p) const {
    return static_cast<uint64_t>(static_cast<const uint8_t*>(p) - base_);
  }

  // As above, for indices read from the region: throw RegionCorrupt
  // (naming `what`) rather than reach outside it.
  Slot& CheckedSlot(uint32_t i, const char* what) const {
    if (!ValidSlot(i)) ThrowCorrupt(Bad(what, i));
    return slot(i);
  }
  SegmentRow& CheckedSegment(uint32_t i, const char* what) const {
    if (i >= kSegmentCapacity) ThrowCorrupt(Bad(what, i));
    return segment(i);
  }
  TaskQueue& CheckedQueue(uint32_t row, const char* what) const {
    if (row != 0 && !ValidAgentRow(row)) ThrowCorrupt(Bad(what, row));
    return queue(row);
  }
  uint8_t* CheckedCell(uint32_t i, const char* what) const {
    if (!ValidCell(i)) ThrowCorrupt(Bad(what, i));
    return cell(i);
  }

  bool ValidSlot(uint32_t i) const { return i < geo_.slot_capacity; }
  bool ValidCell(uint32_t i) const { return i < geo_.cell_count; }
  // Cells [first, first + n) lie in the arena (n > 0).
  bool ValidCells(uint32_t first, uint32_t n) const {
    return first < geo_.cell_count && n <= geo_.cell_count - first;
  }
  bool ValidAgentRow(uint32_t row) const {
    return row >= 1 && row <= geo_.agent_capacity;
  }

 private:
  static std::string Bad(const char* what, uint32_t v) {
    return std::string(what) + " " + std::to_string(v) + " is out of range";
  }

  uint8_t* base_;
  Geometry geo_;
};

// Lays out a region for these options, or says which option is out of range.
Result<Geometry> ComputeGeometry(const PoolOptions& options);

// Checks a geometry read from a region against what its own parameters imply
// and against the mapped file size. The message names the first mismatch.
Status ValidateGeometry(const Geometry& geo, uint64_t file_bytes);

}  // namespace slate::internal
