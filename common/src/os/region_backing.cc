#include "slate/internal/region_backing.h"

#include <algorithm>

namespace slate::internal {
namespace {

// Backed per step and per array: large enough that backing is rare and
// done a page range at a time, small enough to cost a pool little beyond
// what it uses.
constexpr uint64_t kWindowBytes = 1u << 20;

void RaiseTo(std::atomic<uint32_t>& a, uint32_t v) {
  uint32_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// Grows *mark to cover `end`, a window at a time, with back(from, to).
template <typename Back>
Status Grow(std::atomic<uint32_t>& mark, uint32_t end, uint32_t capacity, uint32_t window,
            std::atomic<uint32_t>& mapped_here, Back back) {
  const uint32_t have = std::min(mark.load(std::memory_order_acquire), capacity);
  if (end <= have) return Status::Ok();
  const uint32_t to = std::min(capacity, std::max(end, have + window));
  if (Status s = back(have, to); !s.ok()) return s;
  mark.store(to, std::memory_order_release);
  // back() mapped [have, to) here too; the rest is CatchUp's to map.
  if (mapped_here.load(std::memory_order_relaxed) >= have) RaiseTo(mapped_here, to);
  return Status::Ok();
}

// The cell map's words for cells [from, to).
uint64_t MapOffset(const Region& r, uint32_t cell) { return r.OffsetOf(r.cell_map() + cell / 64); }
uint64_t MapBytes(uint32_t from, uint32_t to) { return (uint64_t{to} + 63) / 64 * 8 - uint64_t{from} / 64 * 8; }

}  // namespace

Status RegionBacking::EnsureLocked(uint32_t slot_end, uint32_t cell_end) {
  Header& h = r_.header();
  const Geometry& g = r_.geo();
  const auto slot_window = static_cast<uint32_t>(kWindowBytes / sizeof(Slot));
  const auto cell_window = static_cast<uint32_t>(kWindowBytes / kCellBytes);
  if (Status s = Grow(h.slots_backed, slot_end, g.slot_capacity, slot_window, slots_mapped_,
                      [&](uint32_t from, uint32_t to) {
                        const uint64_t n = to - from;
                        if (Status b = map_.Back(r_.OffsetOf(&r_.slot(from)), n * sizeof(Slot));
                            !b.ok())
                          return b;
                        return map_.Back(r_.OffsetOf(r_.heap() + from), n * sizeof(uint32_t));
                      });
      !s.ok())
    return s;
  return Grow(h.cells_backed, cell_end, g.cell_count, cell_window, cells_mapped_,
              [&](uint32_t from, uint32_t to) {
                if (Status b = map_.Back(r_.OffsetOf(r_.cell(from)), uint64_t{to - from} * kCellBytes);
                    !b.ok())
                  return b;
                return map_.Back(MapOffset(r_, from), MapBytes(from, to));
              });
}

void RegionBacking::CatchUp() {
  Header& h = r_.header();
  const Geometry& g = r_.geo();
  const uint32_t slots = std::min(h.slots_backed.load(std::memory_order_acquire), g.slot_capacity);
  const uint32_t slots_here = slots_mapped_.load(std::memory_order_relaxed);
  if (slots_here < slots) {
    const uint64_t n = slots - slots_here;
    map_.Prefault(r_.OffsetOf(&r_.slot(slots_here)), n * sizeof(Slot));
    map_.Prefault(r_.OffsetOf(r_.heap() + slots_here), n * sizeof(uint32_t));
    RaiseTo(slots_mapped_, slots);
  }
  const uint32_t cells = std::min(h.cells_backed.load(std::memory_order_acquire), g.cell_count);
  const uint32_t cells_here = cells_mapped_.load(std::memory_order_relaxed);
  if (cells_here < cells) {
    map_.Prefault(r_.OffsetOf(r_.cell(cells_here)), uint64_t{cells - cells_here} * kCellBytes);
    map_.Prefault(MapOffset(r_, cells_here), MapBytes(cells_here, cells));
    RaiseTo(cells_mapped_, cells);
  }
}

}  // namespace slate::internal
