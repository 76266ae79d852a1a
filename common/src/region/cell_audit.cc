#include "slate/internal/cell_audit.h"

#include <algorithm>
#include <cstring>

#include "slate/internal/free_cells.h"

namespace slate::internal {

CellAudit::CellAudit(const Region& r, std::function<void(std::string)> bad)
    : r_(r),
      bad_(std::move(bad)),
      high_(std::min(r.header().counters.cell_high, r.geo().cell_count)),
      used_(high_, 0) {}

bool CellAudit::MarkData(const DataRef& d, const std::string& who) {
  bool twice = false;
  const bool inside = CellStore(r_).ForExtents(d, High(), [&](uint32_t at, uint32_t n) {
    for (uint32_t k = at; k < at + n && !twice; ++k) twice = used_[k] != 0;
    if (twice) return;
    std::fill_n(used_.begin() + at, n, 1);
    used_count_ += n;
  });
  if (!inside) bad_(who + " data leaves the cells handed out");
  else if (twice) bad_(who + " data uses a cell another entry (or itself) uses");
  return inside && !twice;
}

// A free extent keeps {next, prev, cells} in its first cell and cells
// again in its last 4 bytes (free_cells.h).
bool CellAudit::WalkClass(uint32_t c, uint64_t* listed, uint64_t* extents) {
  const Derived& d = r_.header().derived;
  const bool bit = (d.class_bits[c / 64] >> (c % 64)) & 1;
  uint32_t at = d.class_heads[c], prev = kNil;
  if (bit != (at != kNil)) {
    bad_("free class " + std::to_string(c) + " bit disagrees with its list head");
    return false;
  }
  for (; at != kNil; ++*extents) {
    const std::string here = "free extent at cell " + std::to_string(at);
    if (at >= High() || used_[at] != 0 || *extents > High()) {
      bad_("free list of class " + std::to_string(c) + " is broken at cell " + std::to_string(at));
      return false;
    }
    uint32_t head[3], footer = 0;
    std::memcpy(head, r_.cell(at), sizeof head);
    const uint32_t n = head[2];
    if (n == 0 || n > High() - at) {
      bad_(here + " has size " + std::to_string(n) + ", past the cells handed out");
      return false;
    }
    std::memcpy(&footer, r_.cell(at + n - 1) + kCellBytes - 4, sizeof footer);
    if (footer != n) bad_(here + " has a footer that disagrees with its size");
    if (FreeCells::ClassOf(n) != c) bad_(here + " is listed in the wrong size class");
    if (head[1] != prev) bad_(here + " has a back link that disagrees with its list");
    for (uint32_t k = at; k < at + n; ++k) {
      if (used_[k] == 0) continue;
      bad_(here + " overlaps live data or another free extent");
      return false;
    }
    std::fill_n(used_.begin() + at, n, 2);
    free_.emplace_back(at, n);
    *listed += n;
    prev = at;
    at = head[0];
  }
  return true;
}

void CellAudit::CheckFree() {
  const Derived& d = r_.header().derived;
  const uint64_t untouched = r_.geo().cell_count - High();
  uint64_t listed = 0, extents = 0;
  for (uint32_t c = 0; c < kCellClasses; ++c)
    if (!WalkClass(c, &listed, &extents)) return;
  if (listed + untouched != d.cells_free || extents != d.free_extents)
    bad_("free cell counts (" + std::to_string(d.cells_free) + " cells, " +
         std::to_string(d.free_extents) + " extents) disagree with the lists (" +
         std::to_string(listed + untouched) + ", " + std::to_string(extents) + ")");
  if (used_count_ + listed != High())
    bad_("used cells (" + std::to_string(used_count_) + ") plus free cells (" +
         std::to_string(listed) + ") do not make the cells handed out (" +
         std::to_string(High()) + "): cells leak");
  for (const auto& [at, n] : free_)
    if (at + n < High() && used_[at + n] == 2) {
      bad_("free extents at cells " + std::to_string(at) + " and " + std::to_string(at + n) +
           " touch: they were not merged");
      break;
    }
  CheckMap();
}

void CellAudit::CheckMap() {
  const FreeCells map(r_);
  for (uint32_t k = 0; k < High(); ++k) {
    if (map.Marked(k) == (used_[k] == 1)) continue;
    bad_("cell map bit " + std::to_string(k) + " disagrees with the live data");
    return;
  }
}

}  // namespace slate::internal
