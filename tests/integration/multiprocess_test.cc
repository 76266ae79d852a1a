// Real processes over one pool: concurrent writers and claimers checked
// against a model (every entry present once, every task claimed once), and
// futex wake-ups across processes, including with a waiter SIGKILLed asleep.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "slate/internal/crash_point.h"
#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::ForkChild;
using testing::MakeEntry;
using testing::WaitChild;

PoolOptions Roomy(const std::string& tag) {
  PoolOptions o = testing::SmallOptions(tag);
  o.slot_capacity = 32768;
  o.data_bytes = 8 << 20;
  return o;
}

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

TEST(MultiProcessTest, ManyWritersEveryEntryPresentExactlyOnce) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 3000;
  testing::ScopedPool sut(Roomy("writers"));
  std::vector<pid_t> kids;
  for (int w = 0; w < kWriters; ++w) {
    kids.push_back(ForkChild([&, w] {
      auto p = Pool::Open(sut.name());
      if (!p.ok()) return 2;
      for (int i = 0; i < kPerWriter; ++i) {
        NewEntry e = MakeEntry("log", {"w" + std::to_string(w)}, 0.5f,
                               "writer-" + std::to_string(w));
        e.payload = testing::PackInt(i);
        if (!(*p)->Write(e).ok()) return 4;
      }
      return 0;
    }));
  }
  for (pid_t k : kids) ASSERT_EQ(ExitCode(WaitChild(k, 60000)), 0);
  Query q;
  q.segments = {"log"};
  q.limit = 0;
  auto all = sut->Find(q);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), size_t{kWriters} * kPerWriter);
  std::map<std::string, std::set<int64_t>> seen;
  EntryId prev = 0;
  for (const Entry& e : *all) {
    EXPECT_GT(e.id, prev);  // ids unique and ascending
    prev = e.id;
    EXPECT_TRUE(seen[e.author].insert(testing::UnpackInt(e.payload)).second)
        << "duplicate from " << e.author;
  }
  for (int w = 0; w < kWriters; ++w)
    EXPECT_EQ(seen["writer-" + std::to_string(w)].size(), size_t{kPerWriter});
  EXPECT_TRUE(sut->Check().empty());
}

TEST(MultiProcessTest, ManyClaimersOnOneQueueEveryTaskClaimedOnce) {
  constexpr int kClaimers = 4;
  constexpr int kTasks = 4000;
  testing::ScopedPool sut(Roomy("claimers"));
  std::vector<TaskId> ids;
  for (int i = 0; i < kTasks; ++i) {
    TaskSpec t;
    t.entry = MakeEntry("tasks");
    t.entry.payload = testing::PackInt(i);
    ids.push_back(sut->PostTask(t).value());
  }
  std::vector<pid_t> kids;
  for (int c = 0; c < kClaimers; ++c) {
    kids.push_back(ForkChild([&, c] {
      auto p = Pool::Open(sut.name());
      if (!p.ok()) return 2;
      auto me = (*p)->RegisterAgent({"claimer-" + std::to_string(c), {}, 0});
      if (!me.ok()) return 3;
      for (;;) {
        auto claim = (*p)->ClaimNext(*me, 10s);
        if (!claim.ok()) return 4;
        if (!claim->has_value()) return 0;
        TaskResult r;
        r.payload = (*claim)->entry.payload;
        if (!(*p)->Complete((*claim)->task.id, (*claim)->task.epoch, r).ok()) return 5;
      }
    }));
  }
  for (pid_t k : kids) ASSERT_EQ(ExitCode(WaitChild(k, 60000)), 0);
  std::set<EntryId> results;
  std::map<std::string, int> per_claimer;
  for (TaskId id : ids) {
    const TaskInfo t = sut->GetTask(id).value();
    ASSERT_EQ(t.state, TaskState::kDone);
    EXPECT_EQ(t.attempts, 1u);  // claimed once, never twice
    EXPECT_TRUE(results.insert(t.result_id).second);
    const Entry r = sut->Read(t.result_id).value();
    EXPECT_EQ(r.payload, sut->Read(id)->payload);
    per_claimer[r.author] += 1;
  }
  int total = 0;
  for (const auto& [name, n] : per_claimer) total += n;
  EXPECT_EQ(total, kTasks);
  EXPECT_EQ(sut->Stats()->tasks_by_state[static_cast<int>(TaskState::kDone)],
            uint64_t{kTasks});
  EXPECT_TRUE(sut->Check().empty());
}

TEST(MultiProcessTest, WaiterInAnotherProcessIsWokenByAWrite) {
  testing::ScopedPool sut("wake");
  const pid_t waiter = ForkChild([&] {
    auto p = Pool::Open(sut.name());
    Query q;
    q.segments = {"signal"};
    auto r = (*p)->Wait(q, 10s);
    return r.ok() && r->size() == 1 ? 0 : 1;
  });
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->Write(MakeEntry("signal")).ok());
  EXPECT_EQ(ExitCode(WaitChild(waiter)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(MultiProcessTest, AWaiterKilledAsleepDoesNotStopOthersBeingWoken) {
  testing::ScopedPool sut("waitdeath");
  auto wait_for_signal = [&] {
    auto p = Pool::Open(sut.name());
    Query q;
    q.segments = {"signal"};
    auto r = (*p)->Wait(q, 20s);
    return r.ok() && r->size() == 1 ? 0 : 1;
  };
  const pid_t doomed = ForkChild(wait_for_signal);
  std::this_thread::sleep_for(100ms);  // asleep on the futex
  kill(doomed, SIGKILL);
  EXPECT_EQ(WaitChild(doomed) & 0x7f, SIGKILL);
  const pid_t survivor = ForkChild(wait_for_signal);
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->Write(MakeEntry("signal")).ok());
  EXPECT_EQ(ExitCode(WaitChild(survivor)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(MultiProcessTest, ClaimerBlockedInWaitClaimIsWokenAcrossProcesses) {
  testing::ScopedPool sut("waitclaim");
  const AgentRef w = sut->RegisterAgent({"w", {}, 0}).value();
  const pid_t claimer = ForkChild([&] {
    auto p = Pool::Open(sut.name());
    auto c = (*p)->WaitClaim(w, 5s, 10s);
    return c.ok() && c->has_value() ? 0 : 1;
  });
  std::this_thread::sleep_for(100ms);
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.assignee = w;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->PostTask(t).ok());
  EXPECT_EQ(ExitCode(WaitChild(claimer)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(MultiProcessTest, LockHolderKilledMidWriteStreamGroupCarriesOn) {
  // Writers SIGKILLed at random while writing flat out: the survivors and
  // the parent never hang and the pool stays sound.
  testing::ScopedPool sut(Roomy("midstream"));
  for (int round = 0; round < 10; ++round) {
    std::vector<pid_t> kids;
    for (int w = 0; w < 3; ++w)
      kids.push_back(ForkChild([&] {
        auto p = Pool::Open(sut.name());
        for (int i = 0;; ++i)
          if (!(*p)->Write(MakeEntry("stream")).ok()) return 4;
      }));
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + round * 3));
    for (pid_t k : kids) kill(k, SIGKILL);
    for (pid_t k : kids) WaitChild(k);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(sut->Write(MakeEntry("after")).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    const auto problems = sut->Check();
    ASSERT_TRUE(problems.empty()) << problems.front();
  }
}

}  // namespace
}  // namespace slate

namespace slate {
namespace {

TEST(ReadOnlyInspectorTest, SeesARecoveredViewOfAPoolWhoseHolderDied) {
  testing::ScopedPool sut("rodead");
  const EntryId kept = sut->Write(MakeEntry("notes", {"kept"})).value();
  const pid_t child = ForkChild([&] {
    auto p = Pool::Open(sut.name());
    internal::TEST_ArmCrashPoint("write.before_commit");
    (void)(*p)->Write(MakeEntry("notes", {"doomed"}));
    return 3;
  });
  ASSERT_EQ(WaitChild(child) & 0x7f, SIGKILL);
  // No read-write process has touched the pool since: the lock is still
  // owned by the dead child and the journal holds its transaction.
  auto ro = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  const auto start = std::chrono::steady_clock::now();
  auto stats = (*ro)->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(stats->entries, 1u);  // the doomed write is rolled back in the view
  EXPECT_TRUE((*ro)->Read(kept).ok());
  EXPECT_TRUE((*ro)->Check().empty());
  EXPECT_EQ(stats->recoveries, 0u);  // the region itself was not touched
  EXPECT_EQ(sut->Stats()->recoveries, 1u);  // the first writer recovers it
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate
