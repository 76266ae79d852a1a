// The seal covers every authoritative byte of a slot, inline data included,
// and none of the derived links.
#include "slate/internal/slot_seal.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <set>

namespace slate::internal {
namespace {

Slot Sealed(uint8_t segment, uint32_t index) {
  Slot s{};
  s.state = 1;
  s.segment = segment;
  s.id = 42;
  for (size_t i = 0; i < sizeof s.kind.raw; ++i) s.kind.raw[i] = static_cast<uint8_t>(i * 7 + 1);
  Reseal(s, index);
  return s;
}

// Byte offsets of the slot the seal must not cover for this kind.
std::set<size_t> Uncovered(uint8_t segment) {
  std::set<size_t> out;
  for (size_t b = offsetof(Slot, seg_prev); b < offsetof(Slot, kind); ++b) out.insert(b);
  if (segment == kSegTasks)
    for (size_t b = 0; b < 8; ++b) out.insert(offsetof(Slot, kind) + offsetof(TaskFields, q_prev) + b);
  return out;
}

TEST(SlotSealTest, EveryAuthoritativeByteIsCoveredAndNoLink) {
  for (uint8_t segment : {uint8_t{kSegTasks}, uint8_t{kSegResults}, uint8_t{6}}) {
    const std::set<size_t> uncovered = Uncovered(segment);
    for (size_t b = 0; b < sizeof(Slot); ++b) {
      if (b == offsetof(Slot, segment)) continue;  // picks the kind itself
      if (b >= offsetof(Slot, seal) && b < offsetof(Slot, seal) + 4) continue;  // the seal
      Slot s = Sealed(segment, 5);
      reinterpret_cast<uint8_t*>(&s)[b] ^= 0x10;
      EXPECT_EQ(SealHolds(s, 5), uncovered.count(b) == 1)
          << "segment " << int{segment} << ", byte " << b;
    }
  }
}

TEST(SlotSealTest, ASlotCopiedToAnotherIndexFails) {
  const Slot s = Sealed(6, 5);
  EXPECT_TRUE(SealHolds(s, 5));
  EXPECT_FALSE(SealHolds(s, 6));
}

// A never-used slot's seal is known without reading it; its links (a run's
// next slot) are not covered, its other bytes are.
TEST(SlotSealTest, ZeroSlotSealNeedsNoRead) {
  for (uint32_t index : {0u, 1u, 31u, 1000000u}) {
    Slot s{};
    s.hash_next = index + 1;
    s.seal = SealOfZeroSlot(index);
    EXPECT_TRUE(SealHolds(s, index));
    EXPECT_FALSE(SealHolds(s, index + 1));
    s.id = 7;
    EXPECT_FALSE(SealHolds(s, index));
  }
}

}  // namespace
}  // namespace slate::internal
