// TaskQueues against a model: claim order is (priority desc, id asc), also
// when old tasks are pushed back among newer ones.
#include "slate/internal/task_queue.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "util/heap_region.h"

namespace slate::internal {
namespace {

TEST(TaskQueueTest, PopsHighestPriorityThenOldestAgainstAModel) {
  testing::HeapRegion heap_region(1024);
  const Region& r = heap_region.r();
  TaskQueues sut(r);
  std::mt19937 rng(7);
  std::set<std::pair<int, uint64_t>> model;  // (-priority, id)
  std::vector<uint32_t> popped;
  uint32_t next = 0;
  auto pop = [&] {
    const int b = sut.TopBucket(0);
    ASSERT_GE(b, 0);
    const uint32_t head = r.queue(0).buckets[b].head;
    ASSERT_EQ(-static_cast<int>(r.slot(head).kind.task.priority), model.begin()->first);
    ASSERT_EQ(r.slot(head).id, model.begin()->second);
    sut.RemovePending(0, head);
    model.erase(model.begin());
    popped.push_back(head);
  };
  for (int step = 0; step < 5000; ++step) {
    const int op = static_cast<int>(rng() % 4);
    if (op < 2 && next < 1024) {
      Slot& s = r.slot(next);
      s.id = next + 1;
      s.kind.task.priority = static_cast<int8_t>(static_cast<int>(rng() % 9) * 32 - 128);
      sut.PushPending(0, next);
      model.insert({-s.kind.task.priority, s.id});
      ++next;
    } else if (op == 2 && !model.empty()) {
      pop();
    } else if (op == 3 && !popped.empty()) {  // a retry: back to its place
      const uint32_t i = popped[rng() % popped.size()];
      std::erase(popped, i);
      sut.PushPending(0, i);
      model.insert({-r.slot(i).kind.task.priority, r.slot(i).id});
    }
    ASSERT_EQ(r.queue(0).pending, model.size());
  }
  while (!model.empty()) pop();
  EXPECT_EQ(sut.TopBucket(0), -1);
}

TEST(TaskQueueTest, BucketBelowSkipsEmptyBucketsAcrossWords) {
  testing::HeapRegion heap_region(16);
  const Region& r = heap_region.r();
  TaskQueues sut(r);
  const int prios[] = {127, 0, -1, -128};
  for (uint32_t i = 0; i < 4; ++i) {
    r.slot(i).id = i + 1;
    r.slot(i).kind.task.priority = static_cast<int8_t>(prios[i]);
    sut.PushPending(1, i);
  }
  std::vector<int> seen;
  for (int b = sut.TopBucket(1); b >= 0; b = sut.BucketBelow(1, b)) seen.push_back(b - 128);
  EXPECT_EQ(seen, (std::vector<int>{127, 0, -1, -128}));
}

TEST(TaskQueueTest, RunningListAddsAndRemovesAnywhere) {
  testing::HeapRegion heap_region(16);
  const Region& r = heap_region.r();
  TaskQueues sut(r);
  for (uint32_t i = 0; i < 5; ++i) sut.PushRunning(2, i);
  sut.RemoveRunning(2, 2);
  sut.RemoveRunning(2, 4);
  sut.RemoveRunning(2, 0);
  std::vector<uint32_t> left;
  for (uint32_t i = r.queue(2).running_head; i != kNil; i = r.slot(i).kind.task.q_next)
    left.push_back(i);
  EXPECT_EQ(left, (std::vector<uint32_t>{3, 1}));
  EXPECT_EQ(r.queue(2).running, 2u);
}

}  // namespace
}  // namespace slate::internal
