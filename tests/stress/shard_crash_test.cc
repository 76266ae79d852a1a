// Shard locks (ctest label "crash"): a worker claims its own tasks under
// its agent row's shard lock alone. Whoever next meets a shard whose holder
// was SIGKILLed -- a claimer of that row, a completion of one of its tasks,
// any pool lock holder, a read-only viewer -- sees the dead claim undone,
// the pool rebuilt once, and nothing lost or claimed twice.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "slate/internal/crash_point.h"
#include "slate/internal/pool_impl.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;

class ShardCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    worker = pool->RegisterAgent({"worker", {}, 0}).value();
    other = pool->RegisterAgent({"other", {}, 0}).value();
  }
  std::vector<TaskId> PostTo(AgentRef to, int n) {
    std::vector<TaskSpec> specs(static_cast<size_t>(n));
    for (auto& s : specs) {
      s.entry = MakeEntry("tasks", {}, 0.5f, "sup", "t");
      s.assignee = to;
    }
    std::vector<TaskId> ids;
    EXPECT_TRUE(pool->PostTasks(specs, &ids).ok());
    return ids;
  }
  // A child claims `worker`'s tasks and dies at the (skip+1)-th `point`.
  void DieClaiming(const std::string& point, int skip) {
    const pid_t child = testing::ForkChild([&] {
      auto p = Pool::Open(pool.name());
      if (!p.ok()) return 2;
      internal::TEST_ArmCrashPoint(point, skip);
      std::vector<Claim> claims;
      (void)(*p)->ClaimBatch(worker, 60s, 16, &claims);
      return 3;
    });
    const int status = testing::WaitChild(child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  }
  uint64_t Recoveries() { return pool->Stats()->recoveries; }
  size_t Running(AgentRef a) { return pool->RunningTasks(a)->size(); }
  size_t Pending(AgentRef a) { return pool->PendingTasks(a, 100)->size(); }

  testing::ScopedPool pool{"shard-crash"};
  AgentRef worker;
  AgentRef other;
};

TEST_F(ShardCrashTest, TheNextClaimerOfADeadShardGetsItsTasksOnce) {
  PostTo(worker, 4);
  const uint64_t before = Recoveries();
  DieClaiming("claim.before_commit", 1);  // the first claim committed, the second half done
  // Its next claim finds the holder dead, leaves the repair to the pool
  // lock, and claims from the rebuilt queue.
  std::vector<Claim> claims;
  ASSERT_TRUE(pool->ClaimBatch(worker, 60s, 16, &claims).ok());
  EXPECT_EQ(claims.size(), 3u);
  EXPECT_EQ(Recoveries(), before + 1);
  EXPECT_EQ(Running(worker), 4u);
  EXPECT_EQ(Pending(worker), 0u);
  EXPECT_TRUE(pool->Check().empty());
  const PoolStats st = pool->Stats().value();
  EXPECT_EQ(st.tasks_by_state[static_cast<int>(TaskState::kRunning)], 4u);
  EXPECT_EQ(st.tasks_by_state[static_cast<int>(TaskState::kPending)], 0u);
}

TEST_F(ShardCrashTest, ACompletionMeetingADeadShardRebuildsAndGoesOn) {
  PostTo(worker, 3);
  std::vector<Claim> first;
  ASSERT_TRUE(pool->ClaimBatch(worker, 60s, 1, &first).ok());
  ASSERT_EQ(first.size(), 1u);
  const uint64_t before = pool->Stats()->recoveries;
  DieClaiming("claim.before_commit", 0);
  // The first thing after the death: a completion, which takes the
  // worker's shard only when it reaches its task.
  auto done = pool->Complete(first[0].task.id, first[0].task.epoch, {{}, 0.5f, {'r'}}, worker);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(pool->GetTask(first[0].task.id)->state, TaskState::kDone);
  EXPECT_EQ(Recoveries(), before + 1);
  EXPECT_EQ(Pending(worker), 2u);
  EXPECT_EQ(Running(worker), 0u);
  EXPECT_TRUE(pool->Check().empty());
}

TEST_F(ShardCrashTest, OtherWorkersClaimBesideADeadShard) {
  PostTo(worker, 2);
  PostTo(other, 2);
  DieClaiming("claim.before_commit", 0);
  std::vector<Claim> claims;
  ASSERT_TRUE(pool->ClaimBatch(other, 60s, 16, &claims).ok());
  EXPECT_EQ(claims.size(), 2u);
  EXPECT_EQ(Pending(worker), 2u);  // rolled back, rebuilt by whoever came first
  EXPECT_TRUE(pool->Check().empty());
}

TEST_F(ShardCrashTest, APoolHolderDeadWithTheShardsIsRecoveredOnceByAClaimer) {
  PostTo(worker, 2);
  const uint64_t before = Recoveries();
  // A post holds the pool lock and every registered row's shard.
  const pid_t child = testing::ForkChild([&] {
    auto p = Pool::Open(pool.name());
    if (!p.ok()) return 2;
    internal::TEST_ArmCrashPoint("post.before_commit");
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "late");
    t.assignee = worker;
    (void)(*p)->PostTask(t);
    return 3;
  });
  const int status = testing::WaitChild(child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  std::vector<Claim> claims;
  ASSERT_TRUE(pool->ClaimBatch(worker, 60s, 16, &claims).ok());
  EXPECT_EQ(claims.size(), 2u);  // the dead post never happened
  EXPECT_EQ(Recoveries(), before + 1);
  EXPECT_TRUE(pool->Check().empty());
}

TEST_F(ShardCrashTest, AReadOnlyViewerShowsADeadClaimUndone) {
  const std::vector<TaskId> ids = PostTo(worker, 2);
  DieClaiming("claim.before_commit", 0);
  // Nobody has taken the lock since: the viewer waits for the shard to
  // settle, then shows what the next holder will make of it.
  const int settle = internal::g_snapshot_settle_attempts.exchange(2);
  auto viewer = Pool::Open(pool.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(viewer.ok());
  const TaskInfo t = (*viewer)->GetTask(ids[0]).value();
  internal::g_snapshot_settle_attempts.store(settle);
  EXPECT_EQ(t.state, TaskState::kPending);
  EXPECT_EQ(t.epoch, 0u);
  EXPECT_TRUE((*viewer)->Check().empty());
  // The live pool agrees once a holder has been through it.
  EXPECT_EQ(pool->GetTask(ids[0])->state, TaskState::kPending);
}

// A shard's journal holds whole slots of the region and nothing else: a
// record pointing anywhere else is skipped, not restored.
TEST_F(ShardCrashTest, AShardJournalRestoresOnlyWholeSlots) {
  testing::RawView raw(pool.name());
  const internal::Region& r = raw.r();
  internal::ShardJournal& j = r.agent(worker.row).shard_journal;
  const uint64_t commits = pool->Stats()->commits;
  j.rec[0].offset = offsetof(internal::Header, counters);  // the header: refused
  j.rec[0].length = sizeof(internal::Slot);
  j.rec[1].offset = r.geo().off_slots + 3;  // not a slot's start: refused
  j.rec[1].length = sizeof(internal::Slot);
  j.count.store(2);
  EXPECT_EQ(internal::UndoShardJournal(r, worker.row), 0);
  EXPECT_EQ(j.count.load(), 0u);
  EXPECT_EQ(pool->Stats()->commits, commits);
  EXPECT_TRUE(pool->Check().empty());
}

}  // namespace
}  // namespace slate
