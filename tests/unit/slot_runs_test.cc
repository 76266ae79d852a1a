// Slot runs: each queue's tasks and its worker's results take neighbouring
// slots, whoever posts or completes in between; the free slots a run holds
// are used before anything is evicted; a rebuild gives them back.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "slate/internal/layout.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::RawView;
using testing::ScopedPool;

TaskSpec TaskFor(AgentRef to) {
  TaskSpec t;
  t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
  t.assignee = to;
  return t;
}

// Tasks posted round-robin to three workers in batches: each worker's
// tasks sit in runs of neighbouring slots, and so do its results.
TEST(SlotRunsTest, EachWorkersTasksAndResultsTakeNeighbouringSlots) {
  ScopedPool sut("runs-near");
  std::vector<AgentRef> w;
  for (const char* name : {"w1", "w2", "w3"}) w.push_back(*sut->RegisterAgent({name, {}, 0}));
  std::vector<TaskSpec> specs;
  for (int i = 0; i < 60; ++i) specs.push_back(TaskFor(w[i % 3]));
  std::vector<TaskId> ids;
  ASSERT_TRUE(sut->PostTasks(specs, &ids).ok());
  ASSERT_EQ(ids.size(), 60u);
  RawView raw(sut.name());
  for (int k = 0; k < 3; ++k) {
    std::vector<uint32_t> slots;
    for (size_t i = static_cast<size_t>(k); i < ids.size(); i += 3) slots.push_back(raw.SlotOf(ids[i]));
    for (size_t i = 1; i < slots.size(); ++i)
      EXPECT_EQ(slots[i], slots[i - 1] + 1) << "worker " << k << ", its task " << i;
  }
  // Results: each worker completes its own, interleaved with the others.
  std::vector<std::vector<Claim>> claims(3);
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(sut->ClaimBatch(w[k], 30s, 64, &claims[k]).ok());
  std::vector<std::vector<EntryId>> results(3);
  for (size_t i = 0; i < 20; ++i)
    for (int k = 0; k < 3; ++k) {
      const Claim& c = claims[k][i];
      auto r = sut->Complete(c.task.id, c.task.epoch, {{}, 0.5f, {'r'}}, w[k]);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      results[k].push_back(*r);
    }
  // The rest of a worker's run first, then a new run: one break at most.
  for (int k = 0; k < 3; ++k) {
    int breaks = 0;
    for (size_t i = 1; i < results[k].size(); ++i)
      breaks += raw.SlotOf(results[k][i]) != raw.SlotOf(results[k][i - 1]) + 1;
    EXPECT_LE(breaks, 1) << "worker " << k;
  }
  EXPECT_TRUE(sut->Check().empty()) << sut->Check().front();
}

// A pool whose only free slots are set aside in runs fills them before it
// evicts or refuses: every slot holds a live entry at the end.
TEST(SlotRunsTest, FreeSlotsInRunsAreUsedBeforeThePoolIsFull) {
  auto o = testing::SmallOptions("runs-full");
  o.slot_capacity = 96;
  ScopedPool sut(o);
  std::vector<AgentRef> w;
  for (const char* name : {"w1", "w2", "w3"}) w.push_back(*sut->RegisterAgent({name, {}, 0}));
  // Agents take slots of their own (registration entries); the rest fill
  // with tasks, each worker's run partly used when the pool runs out.
  uint64_t posted = 0;
  for (int i = 0;; ++i) {
    auto id = sut->PostTask(TaskFor(w[i % 3]));
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), StatusCode::kPoolFull) << id.status().ToString();
      break;
    }
    ++posted;
    ASSERT_LT(posted, 200u);
  }
  auto stats = sut->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entries, 96u) << "posted " << posted;
  EXPECT_TRUE(sut->Check().empty()) << sut->Check().front();
}

// A run's head scribbled onto a live slot: the next insert refuses it,
// the pool repairs (the rebuild gives every run back to the free list),
// and the post goes through with nothing live overwritten.
TEST(SlotRunsTest, AScribbledRunIsRepairedNotFollowed) {
  ScopedPool sut("runs-scribble");
  const AgentRef w1 = *sut->RegisterAgent({"w1", {}, 0});
  auto first = sut->PostTask(TaskFor(w1));
  ASSERT_TRUE(first.ok());
  RawView raw(sut.name());
  const uint32_t live = raw.SlotOf(*first);
  ASSERT_NE(live, internal::kNil);
  raw.r().agent(w1.row).queue.run_head = live;
  auto second = sut->PostTask(TaskFor(w1));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto t = sut->GetTask(*first);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->state, TaskState::kPending);
  EXPECT_NE(raw.SlotOf(*second), live);
  EXPECT_TRUE(sut->Check().empty()) << sut->Check().front();
}

// The checker sees a free slot listed twice, once on the free list and once
// in a run.
TEST(SlotRunsTest, TheCheckerFindsAFreeSlotInARunAndTheFreeList) {
  ScopedPool sut("runs-check");
  const AgentRef w1 = *sut->RegisterAgent({"w1", {}, 0});
  ASSERT_TRUE(sut->PostTask(TaskFor(w1)).ok());
  RawView raw(sut.name());
  const uint32_t in_run = raw.r().agent(w1.row).queue.run_head;
  ASSERT_NE(in_run, internal::kNil);
  raw.r().header().derived.slot_free_head = in_run;
  EXPECT_TRUE(testing::Mentions(sut->Check(), "slot run")) << sut->Check().size();
}

}  // namespace
}  // namespace slate
