// A running task interrupted: preempted (taken back for more urgent work,
// keeping its retries, its holder woken) and its checkpoints (the holder
// saves its progress; every later attempt reads the last one back; the
// task's end drops it; nobody else changes it).
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::PackStr;
using testing::ScopedPool;

class TaskInterruptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sup = *sut->RegisterAgent({"sup", {}, 0, AgentRole::kSupervisor});
    w = *sut->RegisterAgent({"w", {}, 0});
    w2 = *sut->RegisterAgent({"w2", {}, 0});
  }
  void TearDown() override {
    const auto problems = sut->Check();
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  TaskId Post(AgentRef to, uint32_t max_retries = 2) {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
    t.assignee = to;
    t.max_retries = max_retries;
    return sut->PostTask(t).value();
  }
  Claim ClaimAs(AgentRef who) {
    auto c = sut->ClaimNext(who, 30s);
    EXPECT_TRUE(c.ok() && c->has_value());
    return **c;
  }
  size_t Checkpoints() {
    Query q;
    q.segments = {"checkpoints"};
    return sut->Find(q)->size();
  }
  std::string Last(TaskId id) {
    auto e = sut->LastCheckpoint(id);
    return e.ok() ? testing::UnpackStr(e->payload) : "none";
  }
  ScopedPool sut{"interrupt"};
  AgentRef sup, w, w2;
};

TEST_F(TaskInterruptTest, TheLastSaveReplacesTheOneBefore) {
  const TaskId id = Post(w);
  const Claim c = ClaimAs(w);
  EXPECT_FALSE(c.task.checkpointed);
  EXPECT_EQ(sut->LastCheckpoint(id).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("step 1"), w).ok());
  const auto second = sut->SaveCheckpoint(id, c.task.epoch, PackStr("step 2"), w);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(Checkpoints(), 1u);
  EXPECT_EQ(Last(id), "step 2");
  auto e = sut->LastCheckpoint(id);
  EXPECT_EQ(e->id, *second);
  EXPECT_EQ(e->author, "w");
  EXPECT_TRUE(sut->GetTask(id)->checkpointed);
}

TEST_F(TaskInterruptTest, APreemptedHolderSavesOnItsWayOutAndTheNextAttemptReadsIt) {
  const TaskId id = Post(w);
  const Claim c = ClaimAs(w);
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("half"), w).ok());
  ASSERT_TRUE(sut->Preempt(id, w2, "urgent work").ok());
  // SIGTERM'd, it saves once more: the task is pending at its epoch.
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("two thirds"), w).ok());
  const Claim again = ClaimAs(w2);
  EXPECT_TRUE(again.task.checkpointed);
  EXPECT_EQ(Last(id), "two thirds");
  // Claimed again: the old holder is fenced off, and a conflict recorded.
  EXPECT_EQ(sut->SaveCheckpoint(id, c.task.epoch, PackStr("late"), w).status().code(),
            StatusCode::kStaleEpoch);
  EXPECT_EQ(Last(id), "two thirds");
  Query q;
  q.segments = {"conflicts"};
  EXPECT_EQ(sut->Find(q)->size(), 1u);
}

TEST_F(TaskInterruptTest, ARetryAndAWorkersDeathKeepIt) {
  const TaskId id = Post(w);
  Claim c = ClaimAs(w);
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("a"), w).ok());
  ASSERT_TRUE(sut->Fail(id, c.task.epoch, "boom", w).ok());
  ASSERT_TRUE(sut->Retry(id, w).ok());
  c = ClaimAs(w);
  EXPECT_EQ(Last(id), "a");
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("b"), w).ok());
  // Its worker gone: the task goes to the supervisor with the checkpoint.
  ASSERT_TRUE(sut->Deregister(w, sup, "died").ok());
  ASSERT_TRUE(sut->Reassign(id, w2).ok());
  ClaimAs(w2);
  EXPECT_EQ(Last(id), "b");
}

TEST_F(TaskInterruptTest, EveryEndingDropsIt) {
  // done
  TaskId id = Post(w);
  Claim c = ClaimAs(w);
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("x"), w).ok());
  ASSERT_TRUE(sut->Complete(id, c.task.epoch, {{}, 0.5f, PackStr("r")}, w).ok());
  EXPECT_EQ(Checkpoints(), 0u);
  EXPECT_FALSE(sut->GetTask(id)->checkpointed);
  // cancelled while running
  id = Post(w);
  c = ClaimAs(w);
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("x"), w).ok());
  ASSERT_TRUE(sut->EndTask(id, TaskState::kCancelled, "operator").ok());
  EXPECT_EQ(Checkpoints(), 0u);
  EXPECT_EQ(sut->SaveCheckpoint(id, c.task.epoch, PackStr("y"), w).status().code(),
            StatusCode::kStaleEpoch)
      << "an ended task takes no checkpoint";
  // held keeps it for the person's retry; accepted drops it
  id = Post(w);
  c = ClaimAs(w);
  ASSERT_TRUE(sut->SaveCheckpoint(id, c.task.epoch, PackStr("x"), w).ok());
  ASSERT_TRUE(sut->Fail(id, c.task.epoch, "stuck", w).ok());
  ASSERT_TRUE(sut->Hold(id, "ask a person").ok());
  EXPECT_EQ(Last(id), "x");
  ASSERT_TRUE(sut->AcceptHeld(id, {{}, 0.5f, PackStr("by hand")}, "person").ok());
  EXPECT_EQ(Checkpoints(), 0u);
}

TEST_F(TaskInterruptTest, NobodyButItsHolderChangesIt) {
  const TaskId id = Post(w);
  const Claim c = ClaimAs(w);
  EXPECT_EQ(sut->SaveCheckpoint(id, c.task.epoch, PackStr("x"), w2).status().code(),
            StatusCode::kStaleEpoch)
      << "another agent at the right epoch";
  const EntryId cp = sut->SaveCheckpoint(id, c.task.epoch, PackStr("x"), w).value();
  EXPECT_EQ(sut->Erase(cp).code(), StatusCode::kWrongState);
  EXPECT_EQ(sut->Release(cp).code(), StatusCode::kWrongState);
  EntryUpdate u;
  u.tags = std::vector<std::string>{"other"};
  EXPECT_EQ(sut->Update(cp, u).code(), StatusCode::kWrongState);
  EXPECT_EQ(Last(id), "x");
}

TEST_F(TaskInterruptTest, APreemptedTaskGoesBackKeepingItsRetries) {
  const TaskId id = Post(w, /*max_retries=*/0);
  const auto c = std::optional<Claim>(ClaimAs(w));
  ASSERT_TRUE(sut->Preempt(id, sup, "urgent work").ok());
  auto info = sut->GetTask(id);
  EXPECT_EQ(info->state, TaskState::kPending);
  EXPECT_EQ(sut->PendingTasks(sup, 0)->size(), 1u);
  EXPECT_EQ(info->max_retries, 1u) << "the attempt it lost is given back";
  Query q;
  q.segments = {"errors"};
  q.all_tags = {"preempted", "task:" + std::to_string(id)};
  EXPECT_EQ(sut->Find(q)->size(), 1u);
  // The holder's late result is refused.
  EXPECT_EQ(sut->Complete(id, c->task.epoch, {{}, 0.5f, PackStr("late")}).status().code(),
            StatusCode::kStaleEpoch);
  // Only a running task can be preempted.
  EXPECT_EQ(sut->Preempt(id, sup, "again").code(), StatusCode::kWrongState);
}

TEST_F(TaskInterruptTest, TheHolderIsWokenAtOnce) {
  const TaskId id = Post(w);
  ClaimAs(w);
  std::atomic<bool> woke{false};
  std::thread holder([&] {
    sut->AwaitTakenBack(w, 10s);
    woke = true;
  });
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->Preempt(id, sup, "urgent work").ok());
  holder.join();
  EXPECT_TRUE(woke.load());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "woken, not timed out";
}

}  // namespace
}  // namespace slate
