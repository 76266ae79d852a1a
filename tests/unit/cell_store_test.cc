#include "slate/internal/cell_store.h"

#include <gtest/gtest.h>

#include <random>

#include "slate/internal/cell_audit.h"
#include "slate/internal/free_cells.h"
#include "util/heap_region.h"

namespace slate::internal {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31);
  return v;
}

std::vector<uint8_t> ReadAll(const CellStore& sut, const DataRef& d) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(sut.Read(d, UINT32_MAX, &out));
  return out;
}

const Derived& D(const testing::HeapRegion& h) { return h.r().header().derived; }

// The checker's audit of the free space, with `held` as the live data.
std::vector<std::string> Audit(const Region& r,
                               const std::vector<std::pair<DataRef, std::vector<uint8_t>>>& held) {
  std::vector<std::string> bad;
  CellAudit audit(r, [&](std::string what) { bad.push_back(std::move(what)); });
  for (const auto& [d, data] : held) audit.MarkData(d, "held");
  audit.CheckFree();
  return bad;
}

TEST(CellStoreTest, RandomWritesRoundTripAndFreeingMergesBackToOneExtent) {
  testing::HeapRegion heap_region(64, 64 << 10);
  CellStore sut(heap_region.r());
  const uint64_t free_at_start = D(heap_region).cells_free;
  std::mt19937 rng(3);
  std::vector<std::pair<DataRef, std::vector<uint8_t>>> held;
  int chained = 0;
  for (int step = 0; step < 4000; ++step) {
    if (held.size() < 40 && rng() % 2) {
      const auto data = Bytes(1 + rng() % 3000, static_cast<uint8_t>(step));
      if (!sut.Fits(static_cast<uint32_t>(data.size()))) continue;  // full for now
      held.emplace_back(sut.Store(data), data);
      chained += held.back().first.chained;
    } else if (!held.empty()) {
      const size_t k = rng() % held.size();
      ASSERT_EQ(ReadAll(sut, held[k].first), held[k].second) << step;
      sut.Free(held[k].first);
      held.erase(held.begin() + static_cast<long>(k));
    }
    if (step % 50 == 0) {
      const auto bad = Audit(heap_region.r(), held);
      ASSERT_TRUE(bad.empty()) << "step " << step << ": " << bad.front();
    }
  }
  EXPECT_GT(chained, 0) << "the arena never fragmented enough to chain";
  for (auto& [d, data] : held) {
    ASSERT_EQ(ReadAll(sut, d), data);
    sut.Free(d);
  }
  EXPECT_EQ(D(heap_region).cells_free, free_at_start);
  EXPECT_EQ(D(heap_region).free_extents, 1u);  // everything handed out, merged
}

TEST(CellStoreTest, AWriteLargerThanAnyHoleIsChainedAcrossThem) {
  testing::HeapRegion heap_region(64, 64 << 10);  // 4,096 cells
  CellStore sut(heap_region.r());
  // Fill the arena with 64-byte entries, then free every other one: half
  // the arena is free, in 4-cell holes.
  std::vector<DataRef> all;
  while (sut.Fits(64)) all.push_back(sut.Store(Bytes(64, 1)));
  for (size_t i = 0; i < all.size(); i += 2) sut.Free(all[i]);
  ASSERT_EQ(D(heap_region).free_extents, (all.size() + 1) / 2);

  // A chain of every hole carries 4 * 16 - 8 bytes a hole, and no more.
  const auto holes = static_cast<uint32_t>(D(heap_region).free_extents);
  EXPECT_FALSE(sut.Fits(holes * 56 + 1));
  EXPECT_TRUE(sut.Fits(holes * 56));
  const auto big = Bytes(4000, 7);
  const DataRef d = sut.Store(big);
  EXPECT_TRUE(d.chained);
  EXPECT_EQ(ReadAll(sut, d), big);
  std::vector<uint8_t> middle(1000);
  ASSERT_TRUE(sut.ReadRange(d, 1234, 1000, middle.data()));
  EXPECT_TRUE(std::equal(middle.begin(), middle.end(), big.begin() + 1234));
  sut.Free(d);
  EXPECT_EQ(D(heap_region).free_extents, holes);
}

TEST(CellStoreTest, FitsIsExactlyWhatAllocCanDo) {
  testing::HeapRegion heap_region(64, 64 << 10);
  CellStore sut(heap_region.r());
  const auto all = static_cast<uint32_t>(D(heap_region).cells_free * kCellBytes);
  EXPECT_FALSE(sut.Fits(all + 1));
  ASSERT_TRUE(sut.Fits(all));
  sut.Store(Bytes(all, 2));
  EXPECT_FALSE(sut.Fits(1));
  EXPECT_EQ(D(heap_region).cells_free, 0u);
}

TEST(CellStoreTest, ReadRefusesDataThatLeavesTheArena) {
  testing::HeapRegion heap_region(64, 64 << 10);
  CellStore sut(heap_region.r());
  std::vector<uint8_t> out;
  const uint32_t cells = heap_region.r().geo().cell_count;
  EXPECT_FALSE(sut.Read({kNil, 10, false}, UINT32_MAX, &out));
  EXPECT_FALSE(sut.Read({cells - 1, 17, false}, UINT32_MAX, &out));  // two cells, one past
  EXPECT_TRUE(sut.Read({cells - 1, 16, false}, UINT32_MAX, &out));
  // A chain whose link points outside: refused, not followed.
  const uint32_t link[2] = {0xFFFFFF, 1};
  std::memcpy(heap_region.r().cell(0), link, sizeof link);
  EXPECT_FALSE(sut.Read({0, 100, true}, UINT32_MAX, &out));
  EXPECT_TRUE(sut.Read({0, 8, true}, UINT32_MAX, &out));  // one extent: no link followed
}

TEST(CellStoreTest, FreeingCellsNotInUseIsCorruptionNotADoubleFree) {
  testing::HeapRegion heap_region(64, 64 << 10);
  CellStore sut(heap_region.r());
  const DataRef d = sut.Store(Bytes(100, 3));
  sut.Free(d);
  EXPECT_THROW(sut.Free(d), RegionCorrupt);
  EXPECT_THROW(sut.Free({heap_region.r().geo().cell_count - 1, 64, false}), RegionCorrupt);
}

TEST(CellStoreTest, DataStartsInlineInTheSlotAndGoesOnInCells) {
  testing::HeapRegion heap_region(64, 64 << 10);
  const Region& r = heap_region.r();
  CellStore sut(r);
  const uint64_t cells_free = D(heap_region).cells_free;
  auto store = [&](uint32_t slot, uint32_t segment, size_t n) {
    Slot& s = r.slot(slot);
    s.segment = static_cast<uint8_t>(segment);
    const auto data = Bytes(n, static_cast<uint8_t>(slot));
    sut.StoreIn(s, data);
    EXPECT_EQ(ReadAll(sut, DataRef::Of(s)), data) << "segment " << segment << ", " << n << " bytes";
    return DataRef::Of(s);
  };
  // A note: 56 bytes inline, so 56 takes no cell and 57 takes one.
  EXPECT_EQ(store(0, kBuiltinSegments, 56).first, kNil);
  EXPECT_EQ(D(heap_region).cells_free, cells_free);
  const DataRef spilled = store(1, kBuiltinSegments, 57);
  EXPECT_EQ(spilled.CellBytes(), 1u);
  EXPECT_EQ(D(heap_region).cells_free, cells_free - 1);
  // A result keeps its fields: its data starts after them.
  r.slot(2).kind.result.task_id = 77;
  r.slot(2).kind.result.epoch = 3;
  EXPECT_EQ(store(2, kSegResults, 100).CellBytes(), 60u);
  EXPECT_EQ(r.slot(2).kind.result.task_id, 77u);
  EXPECT_EQ(r.slot(2).kind.result.epoch, 3u);
  // A task's fields take 36 of its 56 kind bytes: 20 of its data are inline.
  r.slot(3).kind.task.epoch = 9;
  r.slot(3).kind.task.lease_ms = 1234;
  EXPECT_EQ(store(3, kSegTasks, 30).CellBytes(), 10u);
  EXPECT_EQ(r.slot(3).kind.task.epoch, 9u);
  EXPECT_EQ(r.slot(3).kind.task.lease_ms, 1234u);
  // A read of a range across the inline part and the cells.
  std::vector<uint8_t> across(20);
  ASSERT_TRUE(sut.ReadRange(DataRef::Of(r.slot(2)), 30, 20, across.data()));
  const auto all = ReadAll(sut, DataRef::Of(r.slot(2)));
  EXPECT_TRUE(std::equal(across.begin(), across.end(), all.begin() + 30));
  sut.Free(spilled);
  EXPECT_EQ(D(heap_region).cells_free, cells_free - CellStore::CellsFor(60) - CellStore::CellsFor(10));
}

TEST(FreeCellsTest, EveryExtentInTheFitClassIsLargeEnough) {
  for (uint32_t n = 1; n < 5000; ++n) {
    ASSERT_LE(FreeCells::ClassOf(n), FreeCells::ClassOf(n + 1)) << n;
    ASSERT_LE(FreeCells::ClassOf(n), FreeCells::FitClassOf(n)) << n;
    ASSERT_LE(FreeCells::FitClassOf(n), FreeCells::ClassOf(n) + 1) << n;
  }
  std::mt19937 rng(5);
  for (int i = 0; i < 200'000; ++i) {
    const auto n = static_cast<uint32_t>(1 + rng() % (1u << (1 + rng() % 30)));
    const auto m = static_cast<uint32_t>(1 + rng() % (1u << (1 + rng() % 30)));
    if (FreeCells::ClassOf(m) >= FreeCells::FitClassOf(n)) {
      ASSERT_GE(m, n) << n << " " << m;
    }
  }
  EXPECT_LT(FreeCells::ClassOf(0x7FFFFFFF), kCellClasses);
}

}  // namespace
}  // namespace slate::internal
