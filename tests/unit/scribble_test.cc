// A peer scribbling on slot headers behind the lock's back. Damage to the
// derived links costs a rebuild and nothing else; damage to an entry's own
// bytes quarantines that entry alone; no operation crashes, hangs or
// throws, whatever the bytes.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "slate/internal/pool_impl.h"
#include "slate/internal/slot_seal.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using internal::Slot;

class ScribbleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w = *sut->RegisterAgent({"w", {}, 0});
    for (int i = 0; i < 40; ++i) {
      TaskSpec t;
      t.entry = testing::MakeEntry("tasks", {"t"});
      t.priority = i % 3;
      t.assignee = i % 2 ? w : kSharedQueue;
      tasks.push_back(*sut->PostTask(t));
    }
    for (int i = 0; i < 20; ++i)
      notes.push_back(*sut->Write(testing::MakeEntry("notes", {"n"}, 0.1f * static_cast<float>(i % 9))));
  }

  // Claims and completes everything claimable; returns the ids done.
  std::set<TaskId> RunAll() {
    std::set<TaskId> done;
    for (;;) {
      auto c = sut->ClaimNext(w, 10s);
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      if (!c.ok() || !c->has_value()) return done;
      const Claim& claim = **c;
      auto r = sut->Complete(claim.task.id, claim.task.epoch, {});
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      done.insert(claim.task.id);
    }
  }

  size_t NotesFound(Pool& pool) {
    Query q;
    q.segments = {"notes"};
    q.limit = 0;
    auto found = pool.Find(q);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? found->size() : 0;
  }

  testing::ScopedPool sut{"scribble"};
  AgentRef w;
  std::vector<TaskId> tasks;
  std::vector<EntryId> notes;
};

TEST_F(ScribbleTest, DamagedLinksCostARebuildAndNothingElse) {
  const testing::RawView view(sut.name());
  std::mt19937 rng(3);
  for (uint32_t i = 0; i < view.r().geo().slot_capacity; ++i) {
    Slot& s = view.r().slot(i);
    if (s.state != 1) continue;
    // Links only: values in range, out of range, and kNil.
    const uint32_t pick[] = {static_cast<uint32_t>(rng() % 64), static_cast<uint32_t>(rng()),
                             internal::kNil};
    s.seg_next = pick[rng() % 3];
    s.hash_next = pick[rng() % 3];
    s.heap_pos = pick[rng() % 3];
    // A queue link only in a task's slot: other kinds keep inline data there.
    if (s.segment == internal::kSegTasks) s.kind.task.q_next = pick[rng() % 3];
  }
  const uint64_t recoveries = sut->Stats()->recoveries;

  EXPECT_EQ(NotesFound(*sut), notes.size());
  const auto done = RunAll();

  EXPECT_EQ(done, std::set<TaskId>(tasks.begin(), tasks.end()));
  EXPECT_GT(sut->Stats()->recoveries, recoveries);
  EXPECT_EQ(sut->Stats()->quarantined, 0u);
  const auto problems = sut->Check();
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST_F(ScribbleTest, ADamagedTaskIsQuarantinedAndTheRestRun) {
  const testing::RawView view(sut.name());
  const TaskId victim = tasks[7];
  const uint32_t at = view.SlotOf(victim);
  ASSERT_NE(at, internal::kNil);
  std::memset(reinterpret_cast<uint8_t*>(&view.r().slot(at)) + 8, 0x5A, 24);  // id, times

  const auto done = RunAll();

  std::set<TaskId> others(tasks.begin(), tasks.end());
  others.erase(victim);
  EXPECT_EQ(done, others);
  EXPECT_EQ(sut->GetTask(victim).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sut->Stats()->quarantined, 1u);
  const auto problems = sut->Check();
  ASSERT_EQ(problems.size(), 1u) << problems.front();
  EXPECT_NE(problems[0].find("slot " + std::to_string(at) + " is quarantined"),
            std::string::npos);
}

// A task's fields decide refusals too: a scribble over a pending task's
// required capability must not make Reassign refuse a capable worker (a
// supervisor stops on such an error) or GetTask report the scribble as the
// task. Both find the seal broken and answer as for a quarantined task.
TEST_F(ScribbleTest, AScribbledTaskIsNotFoundRatherThanRefusedOnItsFields) {
  const testing::RawView view(sut.name());
  const TaskId victim = tasks[4];
  const TaskId other = tasks[6];
  const uint32_t at = view.SlotOf(victim);
  ASSERT_NE(at, internal::kNil);
  view.r().slot(at).kind.task.requires_hash = 0x5A5A5A5A;

  const Status moved = sut->Reassign(victim, w);
  EXPECT_EQ(moved.code(), StatusCode::kNotFound) << moved.ToString();
  EXPECT_EQ(sut->GetTask(victim).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sut->Stats()->quarantined, 1u);
  // The rest are untouched.
  EXPECT_TRUE(sut->Reassign(other, w).ok());
  EXPECT_TRUE(sut->GetTask(other).ok());
}

TEST_F(ScribbleTest, AScribbledTaskIsNotFoundByAReadOnlyView) {
  auto ro = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok());
  const testing::RawView view(sut.name());
  const TaskId victim = tasks[5];
  view.r().slot(view.SlotOf(victim)).kind.task.epoch = 999;

  EXPECT_EQ((*ro)->GetTask(victim).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE((*ro)->GetTask(tasks[6]).ok());
}

TEST_F(ScribbleTest, AReadOnlyViewRepairsOnlyItsOwnCopy) {
  auto ro = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok());
  const testing::RawView view(sut.name());
  const uint32_t at = view.SlotOf(notes[3]);
  view.r().slot(at).seg_next = 0xDEAD;
  std::vector<uint8_t> before(view.r().geo().region_bytes);
  std::memcpy(before.data(), view.r().base(), before.size());

  EXPECT_EQ(NotesFound(**ro), notes.size());

  EXPECT_EQ(std::memcmp(before.data(), view.r().base(), before.size()), 0);
  EXPECT_EQ(NotesFound(*sut), notes.size());  // the writer repairs the region
  EXPECT_TRUE(sut->Check().empty());
}

// Random bytes over random slot headers between random operations: every
// call returns a Status (never a crash, a hang or an exception), and after
// a final rebuild the only problems left are the quarantined slots and what
// they held.
TEST_F(ScribbleTest, RandomScribblesNeverBreakAnOperation) {
  const testing::RawView view(sut.name());
  std::mt19937 rng(11);
  const uint32_t hot = 128;  // slots in use are the lowest ones
  int ok = 0;
  for (int round = 0; round < 400; ++round) {
    auto* bytes = reinterpret_cast<uint8_t*>(&view.r().slot(rng() % hot));
    const auto off = static_cast<uint32_t>(rng() % sizeof(Slot));
    const uint32_t len = std::min<uint32_t>(1 + static_cast<uint32_t>(rng() % 12), static_cast<uint32_t>(sizeof(Slot)) - off);
    for (uint32_t k = 0; k < len; ++k) bytes[off + k] = static_cast<uint8_t>(rng());
    Status s;
    switch (rng() % 6) {
      case 0: s = sut->Write(testing::MakeEntry("notes", {"n"})).status(); break;
      case 1: {
        TaskSpec t;
        t.entry = testing::MakeEntry("tasks");
        t.assignee = w;
        s = sut->PostTask(t).status();
        break;
      }
      case 2: {
        auto c = sut->ClaimNext(w, 10s);
        s = c.status();
        if (c.ok() && c->has_value())
          s = sut->Complete((*c)->task.id, (*c)->task.epoch, {}).status();
        break;
      }
      case 3: s = sut->Find(Query{}).status(); break;
      case 4: s = sut->Erase(notes[rng() % notes.size()]); break;
      default: s = sut->Stats().status(); break;
    }
    ok += s.ok();
  }
  EXPECT_GT(ok, 100);  // damage is the exception, not the rule
  EXPECT_EQ(view.r().header().journal.count.load(), 0u);  // every operation finished
  internal::Rebuild(view.r());
  // An agent whose entry was quarantined stays registered without it.
  for (const auto& p : sut->Check())
    EXPECT_TRUE(p.find("is quarantined") != std::string::npos ||
                p.find("has no entry in segment 'agents'") != std::string::npos)
        << p;
  EXPECT_GT(sut->Stats()->quarantined, 0u);
}

}  // namespace
}  // namespace slate
