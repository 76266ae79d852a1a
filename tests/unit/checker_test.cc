// The checker over pools damaged on purpose: it names each violation and
// never crashes or hangs, whatever the bytes.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "slate/internal/layout.h"
#include "slate/internal/region.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/shm_mapping.h"
#include "slate/internal/slot_seal.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using testing::Mentions;
using namespace std::chrono_literals;
using internal::Region;

using Vandal = testing::RawView;

class CheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w = *sut->RegisterAgent({"w", {}, 0});
    for (int i = 0; i < 4; ++i) {
      TaskSpec t;
      t.entry = testing::MakeEntry("tasks");
      t.assignee = w;
      tasks.push_back(*sut->PostTask(t));
    }
    auto c = **sut->ClaimNext(w, 5s);
    TaskResult res;
    res.payload = testing::PackStr("r");
    result = *sut->Complete(c.task.id, c.task.epoch, res);
    note = *sut->Write(testing::MakeEntry("notes", {"a"}, 0.3f));
    ASSERT_TRUE(sut->Check().empty());
  }
  testing::ScopedPool sut{"check"};
  AgentRef w;
  std::vector<TaskId> tasks;
  EntryId result = 0, note = 0;
};

TEST_F(CheckerTest, SecondResultForATaskIsReported) {
  Vandal v(sut.name());
  const uint32_t s = v.SlotOf(note);
  v.r().slot(s).segment = 1;  // "results"
  v.r().slot(s).kind.result.task_id = tasks[0];
  internal::Reseal(v.r().slot(s), s);  // a buggy writer, not a scribbler
  EXPECT_TRUE(Mentions(sut->Check(), "has 2 results"));
}

TEST_F(CheckerTest, ScribbledAndQuarantinedSlotsAreReported) {
  Vandal v(sut.name());
  const uint32_t s = v.SlotOf(note);
  v.r().slot(s).importance = 0.9f;  // not through a transaction: the seal fails
  EXPECT_TRUE(Mentions(sut->Check(), "slot " + std::to_string(s) + " (entry " +
                                         std::to_string(note) + ") fails its seal"));
  ASSERT_EQ(internal::Rebuild(v.r()).size(), 1u);
  const auto problems = sut->Check();
  ASSERT_EQ(problems.size(), 1u) << problems.front();
  EXPECT_TRUE(Mentions(problems, "slot " + std::to_string(s) + " is quarantined"));
}

TEST_F(CheckerTest, ADoneTaskWithoutItsResultIsReported) {
  Vandal v(sut.name());
  const uint32_t done = v.SlotOf(tasks[0]);
  v.r().slot(done).kind.task.result_gap = 0;
  internal::Reseal(v.r().slot(done), done);
  const uint32_t pending = v.SlotOf(tasks[1]);
  v.r().slot(pending).kind.task.result_gap = 7;
  internal::Reseal(v.r().slot(pending), pending);
  const auto problems = sut->Check();
  EXPECT_TRUE(Mentions(problems, "entry " + std::to_string(tasks[0]) + ") is done without a result"));
  EXPECT_TRUE(Mentions(problems, "has a lease or a result but is pending"));
}

TEST_F(CheckerTest, TaskInTwoStatesIsReported) {
  Vandal v(sut.name());
  v.r().slot(v.SlotOf(tasks[1])).kind.task.state =
      static_cast<uint8_t>(TaskState::kRunning);  // still in the pending bucket
  const auto problems = sut->Check();
  EXPECT_TRUE(Mentions(problems, "bucket")) << problems.size();
  EXPECT_TRUE(Mentions(problems, "exactly one queue"));
}

TEST_F(CheckerTest, LeakedCellsAndWrongFreeCountsAreReported) {
  Vandal v(sut.name());
  v.r().header().counters.cell_high += 3;  // handed out, owned by nobody
  v.r().header().derived.cells_free -= 3;
  EXPECT_TRUE(Mentions(sut->Check(), "cells leak"));
  v.r().header().derived.cells_free = 0;
  EXPECT_TRUE(Mentions(sut->Check(), "free cell counts"));
}

TEST_F(CheckerTest, DamagedFreeExtentsAndCellMapAreReported) {
  // Two free extents apart: every other note erased.
  std::vector<EntryId> notes;
  const std::string payload(200, 'p');  // past what a slot holds inline
  for (int i = 0; i < 6; ++i)
    notes.push_back(*sut->Write(testing::MakeEntry("notes", {}, 0.5f, "t", payload)));
  for (int i = 0; i < 6; i += 2) ASSERT_TRUE(sut->Erase(notes[i]).ok());
  ASSERT_TRUE(sut->Check().empty());
  Vandal v(sut.name());
  internal::Derived& d = v.r().header().derived;
  uint32_t c = 0;
  while (d.class_heads[c] == internal::kNil) ++c;
  uint8_t* head = v.r().cell(d.class_heads[c]);
  uint32_t cells;
  std::memcpy(&cells, head + 8, 4);
  uint8_t* footer = v.r().cell(d.class_heads[c] + cells - 1) + 12;
  footer[0] ^= 1;
  EXPECT_TRUE(Mentions(sut->Check(), "footer that disagrees"));
  footer[0] ^= 1;
  v.r().cell_map()[0] ^= 1;  // cell 0: the first entry written
  EXPECT_TRUE(Mentions(sut->Check(), "cell map bit 0 disagrees"));
  v.r().cell_map()[0] ^= 1;
  const uint32_t saved = d.class_heads[c];
  d.class_heads[c] = internal::kNil;  // its extent now on no list
  EXPECT_TRUE(Mentions(sut->Check(), "bit disagrees with its list head"));
  d.class_heads[c] = saved;
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(CheckerTest, UnfinishedJournalIsReported) {
  Vandal v(sut.name());
  v.r().header().journal.count.store(2);
  EXPECT_TRUE(Mentions(sut->Check(), "did not finish"));
  v.r().header().journal.count.store(0);
}

TEST_F(CheckerTest, WrongCountsAreReported) {
  Vandal v(sut.name());
  v.r().header().derived.tasks[1] += 1;
  v.r().segment(0).count += 1;
  const auto problems = sut->Check();
  EXPECT_TRUE(Mentions(problems, "count of pending tasks"));
  EXPECT_TRUE(Mentions(problems, "'tasks' counts disagree"));
}

TEST_F(CheckerTest, RandomScribblesNeverCrashTheChecker) {
  std::mt19937 rng(1234);
  Vandal v(sut.name());
  const auto& g = v.r().geo();
  const uint64_t from = g.off_segments;
  std::vector<uint8_t> saved(v.r().base() + from, v.r().base() + g.region_bytes);
  int reported = 0;
  for (int round = 0; round < 300; ++round) {
    for (int k = 0; k < 8; ++k) {
      const uint64_t off = from + rng() % (g.off_cells + 4096 * 4 - from);
      v.r().base()[off] = static_cast<uint8_t>(rng());
    }
    if (!sut->Check().empty()) ++reported;
    std::memcpy(v.r().base() + from, saved.data(), saved.size());
  }
  EXPECT_GT(reported, 100);  // most scribbles land on something checked
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate
