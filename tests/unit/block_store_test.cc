#include "slate/internal/block_store.h"

#include <gtest/gtest.h>

#include <random>

#include "util/heap_region.h"

namespace slate::internal {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31);
  return v;
}

TEST(BlockStoreTest, ChainsRoundTripAndFreeingRestoresTheCount) {
  testing::HeapRegion heap_region(64, 64 << 10);
  const Region& r = heap_region.r();
  BlockStore sut(r);
  const uint64_t free_at_start = r.header().derived.blocks_free;
  std::mt19937 rng(3);
  std::vector<std::tuple<uint32_t, std::vector<uint8_t>>> held;
  for (int step = 0; step < 2000; ++step) {
    if (held.size() < 20 && rng() % 2) {
      const auto data = Bytes(rng() % 3000, static_cast<uint8_t>(step));
      const uint32_t n = sut.BlocksFor(static_cast<uint32_t>(data.size()));
      const uint32_t first = n == 0 ? kNil : sut.Alloc(n);
      if (n > 0 && first == kNil) continue;  // full for now
      if (n > 0) sut.Write(first, data);
      held.emplace_back(first, data);
    } else if (!held.empty()) {
      const size_t k = rng() % held.size();
      auto [first, data] = held[k];
      std::vector<uint8_t> out;
      ASSERT_TRUE(sut.Read(first, static_cast<uint32_t>(data.size()), UINT32_MAX, &out));
      ASSERT_EQ(out, data) << step;
      sut.Free(first, sut.BlocksFor(static_cast<uint32_t>(data.size())));
      held.erase(held.begin() + static_cast<long>(k));
    }
  }
  for (auto& [first, data] : held) sut.Free(first, sut.BlocksFor(static_cast<uint32_t>(data.size())));
  EXPECT_EQ(r.header().derived.blocks_free, free_at_start);
}

TEST(BlockStoreTest, AllocRefusesMoreThanIsFree) {
  testing::HeapRegion heap_region(64, 64 << 10);
  BlockStore sut(heap_region.r());
  const auto free_blocks = static_cast<uint32_t>(heap_region.r().header().derived.blocks_free);
  EXPECT_EQ(sut.Alloc(free_blocks + 1), kNil);
  EXPECT_NE(sut.Alloc(free_blocks), kNil);
  EXPECT_EQ(sut.Alloc(1), kNil);
}

TEST(BlockStoreTest, ReadRefusesAChainThatLeavesTheArena) {
  testing::HeapRegion heap_region(64, 64 << 10);
  BlockStore sut(heap_region.r());
  const uint32_t first = sut.Alloc(2);
  const uint32_t bogus = 0xFFFFFF;
  std::memcpy(heap_region.r().block(first), &bogus, 4);
  std::vector<uint8_t> out;
  EXPECT_FALSE(sut.Read(first, 100, UINT32_MAX, &out));
  EXPECT_FALSE(sut.Read(kNil, 10, UINT32_MAX, &out));
  EXPECT_TRUE(sut.Read(first, 50, UINT32_MAX, &out));  // one block: no link followed
}

}  // namespace
}  // namespace slate::internal
