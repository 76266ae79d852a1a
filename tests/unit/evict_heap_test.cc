// EvictHeap against a model (std::set ordered the same way) under random
// pushes, removals and importance changes.
#include "slate/internal/evict_heap.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "util/heap_region.h"

namespace slate::internal {
namespace {

TEST(EvictHeapTest, AgreesWithAnOrderedSetUnderRandomOperations) {
  testing::HeapRegion heap_region(512);
  const Region& r = heap_region.r();
  EvictHeap sut(r);
  std::set<std::tuple<float, uint64_t, uint32_t>> model;
  std::mt19937 rng(42);
  std::vector<uint32_t> members;
  for (uint32_t i = 0; i < 512; ++i) {
    r.slot(i).id = i + 1;
    r.slot(i).heap_pos = kNil;
  }
  for (int step = 0; step < 20000; ++step) {
    const uint32_t i = rng() % 512;
    Slot& s = r.slot(i);
    const int op = static_cast<int>(rng() % 3);
    if (s.heap_pos == kNil && op != 2) {
      s.importance = static_cast<float>(rng() % 5) / 4.0f;
      sut.Push(i);
      model.insert({s.importance, s.id, i});
    } else if (s.heap_pos != kNil && op == 1) {
      sut.Remove(i);
      model.erase({s.importance, s.id, i});
    } else if (s.heap_pos != kNil) {
      model.erase({s.importance, s.id, i});
      s.importance = static_cast<float>(rng() % 5) / 4.0f;
      sut.Fix(i);
      model.insert({s.importance, s.id, i});
    }
    ASSERT_EQ(r.header().derived.heap_size, model.size());
    if (!model.empty()) {
      ASSERT_EQ(sut.Top(), std::get<2>(*model.begin())) << step;
    }
  }
  // Draining yields the model's order exactly.
  while (!model.empty()) {
    ASSERT_EQ(sut.Top(), std::get<2>(*model.begin()));
    sut.Remove(sut.Top());
    model.erase(model.begin());
  }
  EXPECT_EQ(sut.Top(), kNil);
}

TEST(EvictHeapTest, RemovingANonMemberIsANoOp) {
  testing::HeapRegion heap_region(16);
  EvictHeap sut(heap_region.r());
  heap_region.r().slot(3).heap_pos = kNil;
  sut.Remove(3);
  EXPECT_EQ(heap_region.r().header().derived.heap_size, 0u);
}

}  // namespace
}  // namespace slate::internal
