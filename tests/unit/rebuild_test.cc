// Rebuild() recomputes every derived structure from the slots alone: after
// scrambling all of them, queries, stats, claim order and the check agree
// with what they were before.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/shm_mapping.h"
#include "slate/internal/slot_seal.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using internal::Region;

class RebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w = *sut->RegisterAgent({"w", {"cpu"}, 0});
    std::mt19937 rng(5);
    for (int i = 0; i < 60; ++i) {
      TaskSpec t;
      t.entry = testing::MakeEntry("tasks", {"t" + std::to_string(i % 3)});
      t.priority = static_cast<int>(rng() % 7) - 3;
      t.assignee = i % 2 ? w : kSharedQueue;
      tasks.push_back(*sut->PostTask(t));
    }
    for (int i = 0; i < 10; ++i) {  // some running, done, failed
      auto c = **sut->ClaimNext(w, 10s);
      if (i % 3 == 0) {
        ASSERT_TRUE(sut->Complete(c.task.id, c.task.epoch, {}).ok());
      } else if (i % 3 == 1) {
        ASSERT_TRUE(sut->Fail(c.task.id, c.task.epoch, "x").ok());
      }
    }
    for (int i = 0; i < 40; ++i)
      ASSERT_TRUE(sut->Write(testing::MakeEntry("notes", {"n" + std::to_string(i % 4)},
                                                static_cast<float>(i % 5) / 4)).ok());
  }

  std::string Snapshot() {
    std::string out;
    Query q;
    q.limit = 0;
    const auto all = sut->Find(q).value();
    for (const Entry& e : all) out += std::to_string(e.id) + ",";
    q.order = QueryOrder::kByImportanceThenRecency;
    q.all_tags = {"n1"};
    const auto ranked = sut->Find(q).value();
    for (const Entry& e : ranked) out += std::to_string(e.id) + ";";
    const auto mine = sut->PendingTasks(w, 0).value();
    for (TaskId id : mine) out += "w" + std::to_string(id);
    const auto shared = sut->PendingTasks(kSharedQueue, 0).value();
    for (TaskId id : shared) out += "s" + std::to_string(id);
    const auto running = sut->RunningTasks(w).value();
    for (TaskId id : running) out += "r" + std::to_string(id);
    const PoolStats st = *sut->Stats();
    out += "|" + std::to_string(st.entries) + "," + std::to_string(st.live_entries) + "," +
           std::to_string(st.data_bytes_used) + "," + std::to_string(st.data_free_extents);
    for (auto n : st.tasks_by_state) out += "," + std::to_string(n);
    for (const auto& s : st.segments) out += "," + s.name + std::to_string(s.entries) + "/" + std::to_string(s.bytes);
    return out;
  }

  testing::ScopedPool sut{"rebuild"};
  AgentRef w;
  std::vector<TaskId> tasks;
};

TEST_F(RebuildTest, ScrambledDerivedStateIsRebuiltExactly) {
  const std::string before = Snapshot();
  const testing::RawView view(sut.name());
  const Region& r = view.r();
  std::mt19937 rng(9);
  auto scramble = [&](void* p, size_t n) {
    auto* b = static_cast<uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(rng());
  };
  scramble(&r.header().derived, sizeof(internal::Derived));
  scramble(&r.header().shared_queue, sizeof(internal::TaskQueue));
  scramble(r.hash(), 4ull * r.geo().hash_buckets);
  scramble(r.heap(), 4ull * r.geo().slot_capacity);
  for (uint32_t i = 0; i < internal::kSegmentCapacity; ++i) {
    internal::SegmentRow& s = r.segment(i);
    scramble(&s.head, sizeof(s) - offsetof(internal::SegmentRow, head));
  }
  for (uint32_t row = 1; row <= r.geo().agent_capacity; ++row)
    scramble(&r.agent(row).queue, sizeof(internal::TaskQueue));
  scramble(r.cell_map(), (r.header().counters.cell_high + 63) / 64 * 8);
  for (uint32_t i = 0; i < r.geo().slot_capacity; ++i) {
    internal::Slot& s = r.slot(i);
    scramble(&s.seg_prev, 16);  // seg_prev, seg_next, hash_next, heap_pos
    if (s.segment == 0) scramble(&s.kind.task.q_prev, 8);
  }
  EXPECT_FALSE(sut->Check().empty());
  const auto repairs = internal::Rebuild(r);
  EXPECT_TRUE(repairs.empty()) << repairs.front();
  const auto problems = sut->Check();
  ASSERT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(Snapshot(), before);
}

// A slot written outside the protocol (its seal fails), and one sealed but
// impossible, are both quarantined: reported, kept out of every structure,
// never reused; everything else is untouched.
TEST_F(RebuildTest, DamagedSlotsAreQuarantinedAndReported) {
  // A note with data past what its slot holds inline: it has cells.
  const EntryId long_note =
      *sut->Write(testing::MakeEntry("notes", {}, 0.5f, "t", std::string(200, 'l')));
  const testing::RawView view(sut.name());
  const Region& r = view.r();
  std::vector<uint32_t> victims;
  for (uint32_t i = 0; i < r.geo().slot_capacity && victims.empty(); ++i)
    if (r.slot(i).state == 1 && r.slot(i).segment == internal::kBuiltinSegments) victims.push_back(i);  // "notes"
  victims.push_back(view.SlotOf(long_note));
  ASSERT_NE(victims[1], internal::kNil);
  const uint64_t scribbled = r.slot(victims[0]).id;
  const uint64_t impossible = r.slot(victims[1]).id;
  r.slot(victims[0]).importance = 0.123f;  // unsealed
  r.slot(victims[1]).first_cell = 0x7FFFFFFF;
  internal::Reseal(r.slot(victims[1]), victims[1]);  // sealed, yet unusable
  const uint64_t entries = sut->Stats()->entries;

  const auto repairs = internal::Rebuild(r);

  ASSERT_EQ(repairs.size(), 2u);
  EXPECT_NE(repairs[0].find("quarantined slot " + std::to_string(victims[0]) + " (entry " +
                            std::to_string(scribbled) + "): fails its seal"),
            std::string::npos) << repairs[0];
  EXPECT_NE(repairs[1].find("(entry " + std::to_string(impossible) + "): first cell"),
            std::string::npos) << repairs[1];
  EXPECT_EQ(sut->Read(scribbled).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sut->Read(impossible).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sut->Stats()->quarantined, 2u);
  EXPECT_EQ(sut->Stats()->entries, entries - 2);
  const auto problems = sut->Check();
  ASSERT_EQ(problems.size(), 2u) << problems.front();
  EXPECT_NE(problems[0].find("is quarantined"), std::string::npos) << problems[0];
  // Kept quarantined by later rebuilds, and never handed out again.
  EXPECT_TRUE(internal::Rebuild(r).empty());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(sut->Write(testing::MakeEntry("notes", {})).ok());
  EXPECT_EQ(r.slot(victims[0]).state, static_cast<uint8_t>(internal::SlotState::kQuarantined));
  EXPECT_EQ(r.slot(victims[1]).state, static_cast<uint8_t>(internal::SlotState::kQuarantined));
}

// Free space split into holes none of which holds a large write: the write
// is chained across them, reads back whole, and a rebuild from the slots
// alone relists exactly the same free space.
TEST(RebuildCellsTest, AChainAcrossHolesSurvivesARebuild) {
  testing::ScopedPool sut{"rebuild-cells"};
  std::vector<EntryId> notes;
  const std::string kilo(2000, 'k');
  for (;;) {
    const PoolStats st = *sut->Stats();
    if (st.data_bytes_total - st.data_bytes_used < 4096) break;
    notes.push_back(*sut->Write(testing::MakeEntry("notes", {}, 0.9f, "t", kilo)));
  }
  for (size_t i = 0; i < notes.size(); i += 2) ASSERT_TRUE(sut->Erase(notes[i]).ok());
  const std::string big(60'000, 'b');
  const EntryId id = *sut->Write(testing::MakeEntry("notes", {"big"}, 0.9f, "t", big));
  const testing::RawView view(sut.name());
  const Region& r = view.r();
  const uint32_t slot = internal::IdIndex(r).Find(id);
  ASSERT_NE(slot, internal::kNil);
  EXPECT_NE(r.slot(slot).flags & internal::kChained, 0) << "the write found one hole large enough";
  EXPECT_EQ(sut->Read(id)->payload, testing::MakeEntry("notes", {}, 0.5f, "t", big).payload);
  ASSERT_TRUE(sut->Check().empty()) << sut->Check().front();
  const PoolStats before = *sut->Stats();

  std::memset(&r.header().derived.class_heads, 0xAB, sizeof r.header().derived.class_heads);
  std::memset(r.cell_map(), 0x5A, (r.header().counters.cell_high + 63) / 64 * 8);
  const auto repairs = internal::Rebuild(r);

  EXPECT_TRUE(repairs.empty()) << repairs.front();
  const auto problems = sut->Check();
  ASSERT_TRUE(problems.empty()) << problems.front();
  const PoolStats after = *sut->Stats();
  EXPECT_EQ(after.data_bytes_used, before.data_bytes_used);
  EXPECT_EQ(after.data_free_extents, before.data_free_extents);
  EXPECT_EQ(sut->Read(id)->payload, testing::MakeEntry("notes", {}, 0.5f, "t", big).payload);
  ASSERT_TRUE(sut->Erase(id).ok());
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate
