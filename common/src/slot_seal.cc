#include "slate/internal/slot_seal.h"

#include <cstddef>
#include <cstring>

namespace slate::internal {
namespace {

// The seal covers every 64-bit word of the slot, with the bytes it must not
// cover masked out: the seal (high half of word 6), the derived links
// (words 7 and 8), and a task's queue links (high half of word 11, low half
// of word 12; bytes no other kind uses).
constexpr size_t kWords = sizeof(Slot) / 8;
static_assert(kWords == 16);
static_assert(offsetof(Slot, seal) == 6 * 8 + 4);
static_assert(offsetof(Slot, seg_prev) == 7 * 8 && offsetof(Slot, kind) == 9 * 8);
static_assert(offsetof(Slot, kind) + offsetof(TaskFields, q_prev) == 11 * 8 + 4);
static_assert(offsetof(TaskFields, q_next) == offsetof(TaskFields, q_prev) + 4);
static_assert(sizeof(ResultFields) <= offsetof(TaskFields, q_prev));

constexpr uint64_t kLow = 0x00000000FFFFFFFFull;
constexpr uint64_t kHigh = 0xFFFFFFFF00000000ull;
constexpr uint64_t kMask[kWords] = {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, kLow, 0, 0,
                                    ~0ull, ~0ull, kLow, kHigh, ~0ull, ~0ull, ~0ull};
constexpr uint64_t kMul[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full,
                              0x165667B19E3779F9ull, 0xD6E8FEB86659FD93ull};

uint64_t Rotl(uint64_t v, int r) { return v << r | v >> (64 - r); }

}  // namespace

// Four independent multiply lanes (odd multipliers: any change to one
// word changes its lane), then a full avalanche. About 5 ns.
uint32_t SealOf(const Slot& s, uint32_t index) {
  uint64_t w[kWords];
  std::memcpy(w, &s, sizeof w);  // one read of the slot
  uint64_t a = kMul[0] ^ index, b = kMul[1] + index, c = kMul[2], d = kMul[3];
  for (size_t i = 0; i < kWords; i += 4) {  // four lanes, kept in registers
    a = (a ^ (w[i] & kMask[i])) * kMul[0];
    b = (b ^ (w[i + 1] & kMask[i + 1])) * kMul[1];
    c = (c ^ (w[i + 2] & kMask[i + 2])) * kMul[2];
    d = (d ^ (w[i + 3] & kMask[i + 3])) * kMul[3];
  }
  uint64_t h = a ^ Rotl(b, 17) ^ Rotl(c, 31) ^ Rotl(d, 47);
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return static_cast<uint32_t>(h);
}

const char* LiveSlotProblem(const Region& r, const Slot& s) {
  if (s.segment >= kSegmentCapacity || !r.segment(s.segment).rec.used)
    return "unknown segment";
  if (s.ntags > kMaxTags) return "too many tags";
  if (s.data_bytes > r.geo().max_data_bytes) return "data too long";
  if (s.payload_bytes > s.data_bytes) return "payload longer than its data";
  if (s.data_bytes > 0 && !r.ValidBlock(s.first_block)) return "first block out of range";
  if (s.id == 0) return "id 0";
  if (s.segment == 0) {  // kSegTasks
    const TaskFields& t = s.kind.task;
    if (t.state < 1 || t.state >= kTaskStateCount) return "bad task state";
    if (t.assignee != 0 && !r.ValidAgentRow(t.assignee)) return "assignee out of range";
  }
  return nullptr;
}

uint32_t SlotIndexOfRange(const Region& r, const void* p, size_t n) {
  if (n != sizeof(Slot)) return kNil;
  const uint64_t off = r.OffsetOf(p);
  const uint64_t start = r.geo().off_slots;
  if (off < start) return kNil;
  const uint64_t rel = off - start;
  if (rel % sizeof(Slot) != 0 || rel / sizeof(Slot) >= r.geo().slot_capacity) return kNil;
  return static_cast<uint32_t>(rel / sizeof(Slot));
}

// Declared in region.h beside the Checked* accessors; kept out of line so
// that the accessors' fast path stays small.
void ThrowCorrupt(const std::string& what) { throw RegionCorrupt(what); }

}  // namespace slate::internal
