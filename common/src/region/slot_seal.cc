#include "slate/internal/slot_seal.h"

#include <cstddef>
#include <cstring>
#include <utility>

namespace slate::internal {
namespace {

// The seal covers every 64-bit word of the slot, with the bytes it must not
// cover masked out: the seal (high half of word 6), the derived links
// (words 7 and 8), and in a task's slot its queue links (high half of word
// 11, low half of word 12). Other kinds keep inline data there, sealed.
constexpr size_t kWords = sizeof(Slot) / 8;
static_assert(kWords == 16);
static_assert(offsetof(Slot, seal) == 6 * 8 + 4);
static_assert(offsetof(Slot, seg_prev) == 7 * 8 && offsetof(Slot, kind) == 9 * 8);
static_assert(offsetof(Slot, kind) + offsetof(TaskFields, q_prev) == 11 * 8 + 4);
static_assert(offsetof(TaskFields, q_next) == offsetof(TaskFields, q_prev) + 4);
static_assert(sizeof(ResultFields) <= offsetof(TaskFields, q_prev));

constexpr uint64_t kLow = 0x00000000FFFFFFFFull;
constexpr uint64_t kHigh = 0xFFFFFFFF00000000ull;
constexpr uint64_t kTaskMask[kWords] = {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, kLow, 0, 0,
                                        ~0ull, ~0ull, kLow, kHigh, ~0ull, ~0ull, ~0ull};
constexpr uint64_t kEntryMask[kWords] = {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, kLow, 0, 0,
                                         ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull};
static_assert(offsetof(Slot, segment) == 1);
// One odd multiplier per word: a change to any one covered word always
// changes the sum (odd numbers are invertible mod 2^64).
constexpr uint64_t kMul[kWords] = {
    0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull, 0xD6E8FEB86659FD93ull,
    0xFF51AFD7ED558CCDull, 0xC4CEB9FE1A85EC53ull, 0x94D049BB133111EBull, 0xBF58476D1CE4E5B9ull,
    0x27D4EB2F165667C5ull, 0x85EBCA77C2B2AE63ull, 0x9FB21C651E98DF25ull, 0xA0761D6478BD642Full,
    0xE7037ED1A0B428DBull, 0x8EBC6AF09C88C6E3ull, 0x589965CC75374CC3ull, 0x1D8E4E27C47D124Full};

// The sum of a slot's terms, bound to its index and mixed.
uint32_t Avalanche(uint64_t sum, uint32_t index) {
  uint64_t h = sum ^ (uint64_t{index} * kMul[7]);
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return static_cast<uint32_t>(h);
}

template <const uint64_t* kMask, size_t I>
uint64_t Term(const unsigned char* p) {
  if constexpr (kMask[I] == 0) {
    return 0;
  } else {
    uint64_t w;
    std::memcpy(&w, p + I * 8, 8);
    return (w & kMask[I]) * kMul[I];
  }
}

template <const uint64_t* kMask, size_t... I>
uint64_t SumOfTerms(const unsigned char* p, std::index_sequence<I...>) {
  return (Term<kMask, I>(p) + ...);
}

}  // namespace

// A sum of per-word products (independent, so the CPU overlaps them; the
// masked-out words cost nothing), then a full avalanche. About 45
// instructions, 3 ns.
uint32_t SealOfBytes(const unsigned char* p, uint32_t index) {
  constexpr auto kAll = std::make_index_sequence<kWords>{};
  const uint64_t sum = p[offsetof(Slot, segment)] == kSegTasks ? SumOfTerms<kTaskMask>(p, kAll)
                                                               : SumOfTerms<kEntryMask>(p, kAll);
  return Avalanche(sum, index);
}

uint32_t SealOfZeroSlot(uint32_t index) { return Avalanche(0, index); }

const char* LiveSlotProblem(const Region& r, const Slot& s) {
  if (s.segment >= kSegmentCapacity || !r.segment(s.segment).rec.used)
    return "unknown segment";
  if (s.ntags > kMaxTags) return "too many tags";
  if (s.data_bytes > r.geo().max_data_bytes) return "data too long";
  if (s.payload_bytes > s.data_bytes) return "payload longer than its data";
  const bool in_cells = s.data_bytes > InlineBytes(s.segment);
  if (in_cells && !r.ValidCell(s.first_cell)) return "first cell out of range";
  if ((s.flags & kChained) != 0 && !in_cells) return "chained flag without data in cells";
  if (s.id == 0) return "id 0";
  if (s.segment == 0) {  // kSegTasks
    const TaskFields& t = s.kind.task;
    if (t.state < 1 || t.state >= kTaskStateCount) return "bad task state";
    if (t.assignee != 0 && !r.ValidAgentRow(t.assignee)) return "assignee out of range";
  }
  return nullptr;
}

// Declared in region.h beside the Checked* accessors; kept out of line so
// that the accessors' fast path stays small.
void ThrowCorrupt(const std::string& what) { throw RegionCorrupt(what); }

}  // namespace slate::internal
