#include "slate/internal/free_cells.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <string>

namespace slate::internal {
namespace {

constexpr uint32_t kExactClasses = 64;
constexpr uint32_t kClassWords = (kCellClasses + 63) / 64;

uint64_t LowMask(uint32_t bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

// Calls f(word, mask) for the map words covering [first, first + n).
template <typename F>
void ForWords(uint32_t first, uint32_t n, F f) {
  uint64_t at = first;
  const uint64_t end = uint64_t{first} + n;
  while (at < end) {
    const auto bit = static_cast<uint32_t>(at % 64);
    const uint64_t take = std::min<uint64_t>(64 - bit, end - at);
    f(at / 64, LowMask(static_cast<uint32_t>(take)) << bit);
    at += take;
  }
}

// The first cell in [from, limit) whose map bit is `set`, or limit.
uint32_t Next(const uint64_t* map, uint32_t from, uint32_t limit, bool set) {
  uint64_t at = from;
  while (at < limit) {
    const uint64_t word = set ? map[at / 64] : ~map[at / 64];
    const uint64_t here = word & ~LowMask(static_cast<uint32_t>(at % 64));
    if (here != 0) return static_cast<uint32_t>(std::min<uint64_t>(at / 64 * 64 + std::countr_zero(here), limit));
    at = (at / 64 + 1) * 64;
  }
  return limit;
}

}  // namespace

uint32_t FreeCells::ClassOf(uint32_t n) {
  if (n < kExactClasses) return n;
  const uint32_t log = 31 - static_cast<uint32_t>(std::countl_zero(n));  // >= 6
  return kExactClasses + (log - 6) * 4 + ((n >> (log - 2)) & 3);
}

uint32_t FreeCells::FitClassOf(uint32_t n) {
  if (n < kExactClasses) return n;
  const uint32_t log = 31 - static_cast<uint32_t>(std::countl_zero(n));
  // A class of the log classes spans [(4 + sub) << (log - 2), (5 + sub) << (log - 2)).
  const bool at_class_floor = (n & LowMask(log - 2)) == 0;
  return ClassOf(n) + (at_class_floor ? 0 : 1);
}

FreeCells::Head FreeCells::ReadHead(uint32_t first, const char* what) const {
  Head h;
  std::memcpy(&h, r_.CheckedCell(first, what), sizeof h);
  const uint32_t high = r_.header().counters.cell_high;
  if (h.cells == 0 || !r_.ValidCells(first, h.cells) || first + h.cells > high ||
      Footer(first + h.cells - 1) != h.cells)
    ThrowCorrupt(std::string(what) + " at cell " + std::to_string(first) +
                 " has a size that disagrees with its footer or the arena");
  return h;
}

uint32_t FreeCells::Footer(uint32_t last) const {
  uint32_t n;
  std::memcpy(&n, r_.CheckedCell(last, "free extent footer") + kCellBytes - 4, sizeof n);
  return n;
}

void FreeCells::SetFooter(uint32_t first, uint32_t n) {
  std::memcpy(r_.CheckedCell(first + n - 1, "free extent footer") + kCellBytes - 4, &n, sizeof n);
}

void FreeCells::SetNext(uint32_t first, uint32_t next) {
  std::memcpy(r_.CheckedCell(first, "free extent link"), &next, sizeof next);
}

void FreeCells::SetPrev(uint32_t first, uint32_t prev) {
  std::memcpy(r_.CheckedCell(first, "free extent link") + 4, &prev, sizeof prev);
}

void FreeCells::List(uint32_t first, uint32_t n) {
  Derived& d = r_.header().derived;
  const uint32_t c = ClassOf(n);
  const Head h{d.class_heads[c], kNil, n};
  std::memcpy(r_.CheckedCell(first, "free extent"), &h, sizeof h);
  SetFooter(first, n);
  if (h.next != kNil) SetPrev(h.next, first);
  d.class_heads[c] = first;
  d.class_bits[c / 64] |= 1ull << (c % 64);
  d.cells_free += n;
  d.free_extents += 1;
}

void FreeCells::Unlink(uint32_t first, const Head& h) {
  Derived& d = r_.header().derived;
  const uint32_t c = ClassOf(h.cells);
  if (h.prev == kNil) {
    if (d.class_heads[c] != first)
      ThrowCorrupt("free extent at cell " + std::to_string(first) +
                   " has no predecessor but does not head its class");
    d.class_heads[c] = h.next;
    if (h.next == kNil) d.class_bits[c / 64] &= ~(1ull << (c % 64));
  } else {
    SetNext(h.prev, h.next);
  }
  if (h.next != kNil) SetPrev(h.next, h.prev);
  if (d.cells_free < h.cells || d.free_extents == 0)
    ThrowCorrupt("free cell counts are below a listed extent");
  d.cells_free -= h.cells;
  d.free_extents -= 1;
}

uint32_t FreeCells::FirstClassFrom(uint32_t c) const {
  const Derived& d = r_.header().derived;
  for (uint32_t w = c / 64; w < kClassWords; ++w) {
    const uint64_t bits = d.class_bits[w] & ~LowMask(w == c / 64 ? c % 64 : 0);
    if (bits != 0) return w * 64 + static_cast<uint32_t>(std::countr_zero(bits));
  }
  return kCellClasses;
}

uint32_t FreeCells::FitHead(uint32_t n, Head* h) const {
  const Derived& d = r_.header().derived;
  if (d.free_extents == 0) return kNil;
  if (const uint32_t c = FirstClassFrom(FitClassOf(n)); c < kCellClasses) {
    *h = ReadHead(d.class_heads[c], "free extent");
    return d.class_heads[c];
  }
  // The fit classes are empty; the head of n's own class may still fit.
  const uint32_t own = d.class_heads[ClassOf(n)];
  if (n < kExactClasses || own == kNil) return kNil;
  *h = ReadHead(own, "free extent");
  return h->cells >= n ? own : kNil;
}

uint32_t FreeCells::FitOf(uint32_t n, uint32_t* got) const {
  Head h{};
  const uint32_t first = FitHead(n, &h);
  *got = h.cells;
  return first;
}

uint32_t FreeCells::Carve(uint32_t n) {
  Head h{};
  const uint32_t first = FitHead(n, &h);
  if (first == kNil) return kNil;
  const uint32_t at = first + h.cells - n;
  if (h.cells == n) Unlink(first, h);
  else Resize(first, h, h.cells - n);
  Mark(at, n);
  return at;
}

// Most resizes keep the class (four per power of two above 64 cells), and
// then only the size in the head and the footer change: no list is
// touched.
void FreeCells::Resize(uint32_t first, const Head& h, uint32_t cells) {
  if (ClassOf(cells) != ClassOf(h.cells)) {
    Unlink(first, h);
    List(first, cells);
    return;
  }
  Derived& d = r_.header().derived;
  if (cells < h.cells && d.cells_free < h.cells - cells)
    ThrowCorrupt("free cell count is below a listed extent");
  d.cells_free = d.cells_free - h.cells + cells;
  std::memcpy(r_.CheckedCell(first, "free extent") + offsetof(Head, cells), &cells, sizeof cells);
  SetFooter(first, cells);
}

uint32_t FreeCells::TakeLargest(uint32_t* got) {
  const Derived& d = r_.header().derived;
  for (uint32_t w = kClassWords; w-- > 0;) {
    if (d.class_bits[w] == 0) continue;
    const uint32_t c = w * 64 + 63 - static_cast<uint32_t>(std::countl_zero(d.class_bits[w]));
    const uint32_t first = d.class_heads[c];
    const Head h = ReadHead(first, "free extent");
    Unlink(first, h);
    *got = h.cells;
    return first;
  }
  return kNil;
}

void FreeCells::Release(uint32_t first, uint32_t n) {
  const uint32_t high = r_.header().counters.cell_high;
  if (n == 0 || !r_.ValidCells(first, n) || first + n > high)
    ThrowCorrupt("freed cells [" + std::to_string(first) + ", +" + std::to_string(n) +
                 ") are outside the cells handed out");
  bool all = true;
  ForWords(first, n, [&](uint64_t w, uint64_t m) { all = all && (r_.cell_map()[w] & m) == m; });
  if (!all)
    ThrowCorrupt("freed cells [" + std::to_string(first) + ", +" + std::to_string(n) +
                 ") were not all in use");
  Unmark(first, n);
  uint32_t left = 0;  // cells of a free extent just before, which absorbs these
  if (first > 0 && !Marked(first - 1)) {
    left = Footer(first - 1);
    if (left == 0 || left > first)
      ThrowCorrupt("free extent footer before cell " + std::to_string(first) + " is out of range");
  }
  if (first + n < high && !Marked(first + n)) {
    const Head h = ReadHead(first + n, "free extent after freed cells");
    Unlink(first + n, h);
    n += h.cells;
  }
  // Read after the unlink above, which may have rewritten its links.
  if (left > 0) Resize(first - left, ReadHead(first - left, "free extent before freed cells"), left + n);
  else List(first, n);
}

void FreeCells::Mark(uint32_t first, uint32_t n) {
  ForWords(first, n, [&](uint64_t w, uint64_t m) { r_.cell_map()[w] |= m; });
}

void FreeCells::Unmark(uint32_t first, uint32_t n) {
  ForWords(first, n, [&](uint64_t w, uint64_t m) { r_.cell_map()[w] &= ~m; });
}

bool FreeCells::AnyMarked(uint32_t first, uint32_t n) const {
  bool any = false;
  ForWords(first, n, [&](uint64_t w, uint64_t m) { any = any || (r_.cell_map()[w] & m) != 0; });
  return any;
}

bool FreeCells::Marked(uint32_t cell) const {
  return (r_.cell_map()[cell / 64] >> (cell % 64)) & 1;
}

void FreeCells::RelistFromMap() {
  const uint32_t high = r_.header().counters.cell_high;
  for (uint32_t at = Next(r_.cell_map(), 0, high, false); at < high;) {
    const uint32_t end = Next(r_.cell_map(), at, high, true);
    List(at, end - at);
    at = Next(r_.cell_map(), end, high, false);
  }
}

uint64_t FreeCells::ListedCells() const {
  const Header& h = r_.header();
  const uint64_t untouched = r_.geo().cell_count - std::min(h.counters.cell_high, r_.geo().cell_count);
  return h.derived.cells_free > untouched ? h.derived.cells_free - untouched : 0;
}

}  // namespace slate::internal
