#include "slate/internal/slot_seal.h"

#include <cstddef>
#include <cstring>

namespace slate::internal {
namespace {

// Byte ranges of a slot the seal does not cover: the seal, the derived
// links, and a task's queue links (bytes no other kind uses).
constexpr size_t kLinksAt = offsetof(Slot, seg_prev);
constexpr size_t kLinksBytes = offsetof(Slot, kind) - kLinksAt;
constexpr size_t kQueueLinksAt = offsetof(Slot, kind) + offsetof(TaskFields, q_prev);
static_assert(offsetof(TaskFields, q_next) == offsetof(TaskFields, q_prev) + 4);
static_assert(offsetof(Slot, seal) + 4 == kLinksAt);
static_assert(kLinksBytes == 16);
static_assert(sizeof(ResultFields) <= offsetof(TaskFields, q_prev));

constexpr uint64_t kMulA = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kMulB = 0xC2B2AE3D27D4EB4Full;

}  // namespace

uint32_t SealOf(const Slot& s, uint32_t index) {
  uint64_t w[sizeof(Slot) / 8];
  std::memcpy(w, &s, sizeof w);  // one read of the slot; masks apply to the copy
  auto* bytes = reinterpret_cast<uint8_t*>(w);
  std::memset(bytes + offsetof(Slot, seal), 0, 4 + kLinksBytes);
  std::memset(bytes + kQueueLinksAt, 0, 8);
  // Two independent multiply-xor lanes: about 20 ns for the 16 words.
  uint64_t a = kMulA ^ index;
  uint64_t b = kMulB + index;
  for (size_t i = 0; i < sizeof(Slot) / 8; i += 2) {
    a = (a ^ w[i]) * kMulA;
    a ^= a >> 29;
    b = (b ^ w[i + 1]) * kMulB;
    b ^= b >> 31;
  }
  uint64_t h = (a ^ (b << 21 | b >> 43)) * kMulA;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

std::string LiveSlotProblem(const Region& r, const Slot& s) {
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
  return "";
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

void ThrowCorrupt(const std::string& what) { throw RegionCorrupt(what); }

}  // namespace slate::internal
