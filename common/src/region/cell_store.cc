#include "slate/internal/cell_store.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "slate/internal/free_cells.h"

namespace slate::internal {

uint32_t CellStore::Untouched() const {
  const uint32_t high = r_.header().counters.cell_high;
  return high < r_.geo().cell_count ? r_.geo().cell_count - high : 0;
}

bool CellStore::Fits(uint32_t bytes) const {
  const uint32_t need = CellsFor(bytes);
  const uint32_t fresh = Untouched();
  const FreeCells free(r_);
  uint32_t got;
  if (fresh >= need || free.FitOf(need, &got) != kNil) return true;
  // A chain of every listed extent and the untouched cells, each less its link.
  const uint64_t chain = free.ListedCells() * kCellBytes -
                         r_.header().derived.free_extents * kLinkBytes +
                         (fresh > 0 ? Capacity(fresh) : 0);
  return chain >= bytes;
}

uint32_t CellStore::FreshEnd(uint32_t bytes) const {
  // A chain's fresh extent carries a link, so it may take one cell more.
  const uint64_t end = uint64_t{r_.header().counters.cell_high} + CellsFor(bytes) + 1;
  return static_cast<uint32_t>(std::min<uint64_t>(end, r_.geo().cell_count));
}

uint32_t CellStore::TakeFresh(uint32_t n) {
  Header& h = r_.header();
  const uint32_t first = h.counters.cell_high;
  h.counters.cell_high += n;
  h.derived.cells_free -= n;
  FreeCells(r_).Mark(first, n);
  return first;
}

DataRef CellStore::Alloc(uint32_t bytes) {
  const uint32_t need = CellsFor(bytes);
  if (const uint32_t at = FreeCells(r_).Carve(need); at != kNil) return {at, bytes, false};
  if (Untouched() >= need) return {TakeFresh(need), bytes, false};
  return Gather(bytes);
}

// Free space is in pieces none of which holds bytes: chain the untouched
// cells and the largest free extents, splitting the last one taken.
DataRef CellStore::Gather(uint32_t bytes) {
  FreeCells free(r_);
  DataRef d{kNil, bytes, true};
  uint32_t last = kNil;
  for (uint32_t left = bytes; left > 0;) {
    const uint32_t want = CellsFor(left + kLinkBytes);
    uint32_t at, cells;
    if (Untouched() > 0) {
      cells = std::min(Untouched(), want);
      at = TakeFresh(cells);
    } else {
      uint32_t got = 0;
      at = free.TakeLargest(&got);
      if (at == kNil) ThrowCorrupt("free cells ran out in the middle of an allocation");
      cells = std::min(got, want);
      if (got > cells) free.List(at + cells, got - cells);
      free.Mark(at, cells);
    }
    const Link link{kNil, cells};
    std::memcpy(r_.cell(at), &link, sizeof link);
    if (last == kNil) d.first = at;
    else std::memcpy(r_.cell(last), &at, sizeof at);
    last = at;
    left -= std::min(left, Capacity(cells));
  }
  return d;
}

void CellStore::Write(const DataRef& d, std::span<const uint8_t> data) {
  data = data.subspan(d.head_bytes);
  if (!d.chained) {
    if (!data.empty()) std::memcpy(r_.CheckedCell(d.first, "data extent"), data.data(), data.size());
    return;
  }
  size_t done = 0;
  ForExtents(d, r_.header().counters.cell_high, [&](uint32_t at, uint32_t cells) {
    const size_t n = std::min<size_t>(Capacity(cells), data.size() - done);
    std::memcpy(r_.cell(at) + kLinkBytes, data.data() + done, n);
    done += n;
  });
  if (done != data.size()) ThrowCorrupt("a data chain just written is shorter than its data");
}

DataRef CellStore::Store(std::span<const uint8_t> data) {
  if (data.empty()) return {};
  const DataRef d = Alloc(static_cast<uint32_t>(data.size()));
  Write(d, data);
  return d;
}

void CellStore::StoreIn(Slot& s, std::span<const uint8_t> data) {
  const auto inline_bytes = static_cast<uint32_t>(data.size() - CellBytesFor(s.segment, data.size()));
  if (inline_bytes > 0) std::memcpy(s.kind.raw + InlineOffset(s.segment), data.data(), inline_bytes);
  DataRef d = Store(data.subspan(inline_bytes));
  d.bytes = static_cast<uint32_t>(data.size());
  d.head_bytes = inline_bytes;
  d.SetIn(s);
}

void CellStore::Free(const DataRef& d) {
  // Readers copy data without the lock and then check that its slot's
  // version did not change (StagedEntries::CopyNoted): the commit that
  // let go of these cells must be visible before anything written into
  // them. Free on x86; a barrier elsewhere.
  std::atomic_thread_fence(std::memory_order_release);
  FreeCells free(r_);
  // ForExtents reads an extent's link before f frees it; freeing one
  // extent writes only into cells it or its free neighbours hold.
  if (!ForExtents(d, r_.header().counters.cell_high,
                  [&](uint32_t at, uint32_t cells) { free.Release(at, cells); }))
    ThrowCorrupt("data at cell " + std::to_string(d.first) + " leaves the cells handed out");
}

bool CellStore::Read(const DataRef& d, uint32_t max_bytes, std::vector<uint8_t>* out) const {
  const uint32_t want = std::min(d.bytes, max_bytes);
  out->resize(want);
  return ReadRange(d, 0, want, out->data());
}

bool CellStore::ReadRange(const DataRef& d, uint32_t offset, uint32_t len, uint8_t* dst) const {
  if (offset > d.bytes || len > d.bytes - offset || d.head_bytes > d.bytes) return false;
  if (offset < d.head_bytes) {  // the inline part
    const uint32_t n = std::min(len, d.head_bytes - offset);
    std::memcpy(dst, d.head + offset, n);
    dst += n;
    offset += n;
    len -= n;
  }
  if (len == 0) return true;
  offset -= d.head_bytes;  // now within the cell part
  if (!d.chained) {
    if (!r_.ValidCells(d.first, CellsFor(d.CellBytes()))) return false;
    std::memcpy(dst, r_.cell(d.first) + offset, len);
    return true;
  }
  // [pos, pos + cap) of the data is in the extent at hand.
  uint32_t pos = 0, done = 0;
  const bool ok = ForExtents(d, r_.geo().cell_count, [&](uint32_t at, uint32_t cells) {
    const uint32_t cap = Capacity(cells);
    const uint32_t from = std::max(offset + done, pos);
    if (done < len && from < pos + cap) {
      const uint32_t n = std::min(pos + cap - from, len - done);
      std::memcpy(dst + done, r_.cell(at) + kLinkBytes + (from - pos), n);
      done += n;
    }
    pos += cap;
  });
  return ok && done == len;
}

}  // namespace slate::internal
