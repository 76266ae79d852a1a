// The states a plan adds to a task: waiting (until MakeReady), and the
// endings without a result (EndTask: dead-lettered, skipped, cancelled).
#include <gtest/gtest.h>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::ScopedPool;

class TaskEndingsTest : public ::testing::Test {
 protected:
  void SetUp() override { w = *sut->RegisterAgent({"w", {}, 0}); }
  void TearDown() override {
    const auto problems = sut->Check();
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  TaskId Post(bool waiting) {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
    t.waiting = waiting;
    auto id = sut->PostTask(t);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  uint64_t Count(TaskState s) { return sut->Stats()->tasks_by_state[static_cast<int>(s)]; }
  std::vector<Entry> Records(TaskId id, const std::string& kind) {
    Query q;
    q.segments = {"errors"};
    q.all_tags = {kind, "task:" + std::to_string(id)};
    return sut->Find(q).value();
  }

  ScopedPool sut{"endings"};
  AgentRef w;
};

TEST_F(TaskEndingsTest, AWaitingTaskIsClaimableOnlyOnceMadeReady) {
  const TaskId id = Post(true);
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kWaiting);
  EXPECT_EQ(Count(TaskState::kWaiting), 1u);
  EXPECT_FALSE(sut->ClaimNext(w, 5s)->has_value());
  // (The shared queue is no claimer: only a registered agent claims.)
  EXPECT_EQ(sut->ClaimNext(kSharedQueue, 5s).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(sut->MakeReady(id, w).ok());
  EXPECT_EQ(Count(TaskState::kWaiting), 0u);
  auto c = sut->ClaimNext(w, 5s);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->task.id, id);
}

TEST_F(TaskEndingsTest, OnlyAWaitingTaskCanBeMadeReady) {
  const TaskId id = Post(false);
  const Status s = sut->MakeReady(id, w);
  EXPECT_EQ(s.code(), StatusCode::kWrongState);
  EXPECT_NE(s.message().find("it is pending"), std::string::npos) << s.message();
}

TEST_F(TaskEndingsTest, AWaitingTaskNamesNoAssignee) {
  TaskSpec t;
  t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
  t.waiting = true;
  t.assignee = w;
  EXPECT_EQ(sut->PostTask(t).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TaskEndingsTest, AWaitingTaskIsNeverEvictedOrErased) {
  const TaskId id = Post(true);
  EXPECT_TRUE(sut->Read(id)->live);
  EXPECT_FALSE(sut->Erase(id).ok());
}

TEST_F(TaskEndingsTest, SkippingAWaitingTaskEndsItWithItsReason) {
  const TaskId id = Post(true);
  auto rec = sut->EndTask(id, TaskState::kSkipped, "dependency 'a' was dead-lettered");
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kSkipped);
  EXPECT_EQ(Count(TaskState::kSkipped), 1u);
  const auto records = Records(id, "skipped");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, *rec);
  EXPECT_EQ(sut->EndTask(id, TaskState::kCancelled, "late").status().code(),
            StatusCode::kWrongState);
}

TEST_F(TaskEndingsTest, CancellingARunningTaskRefusesItsLateResult) {
  Post(false);
  auto c = sut->ClaimNext(w, 5s);
  ASSERT_TRUE(c.ok() && c->has_value());
  const TaskInfo t = (*c)->task;
  ASSERT_TRUE(sut->EndTask(t.id, TaskState::kCancelled, "by an operator").ok());
  EXPECT_EQ(sut->GetTask(t.id)->state, TaskState::kCancelled);
  EXPECT_TRUE(sut->RunningTasks(w)->empty());
  const uint64_t stale = sut->Stats()->stale_completions;
  EXPECT_EQ(sut->Complete(t.id, t.epoch, {}).status().code(), StatusCode::kStaleEpoch);
  EXPECT_EQ(sut->Stats()->stale_completions, stale + 1);
  EXPECT_EQ(sut->GetTask(t.id)->result_id, 0u);
  EXPECT_EQ(Records(t.id, "cancelled").size(), 1u);
}

TEST_F(TaskEndingsTest, CancellingAPendingTaskTakesItOffItsQueue) {
  const TaskId id = Post(false);
  ASSERT_TRUE(sut->EndTask(id, TaskState::kCancelled, "by an operator").ok());
  EXPECT_TRUE(sut->PendingTasks(kSharedQueue, 0)->empty());
  EXPECT_FALSE(sut->ClaimNext(w, 5s)->has_value());
}

TEST_F(TaskEndingsTest, OnlyEndingStatesAreAccepted) {
  const TaskId id = Post(false);
  for (TaskState s : {TaskState::kDone, TaskState::kPending, TaskState::kWaiting,
                      TaskState::kHeld})
    EXPECT_EQ(sut->EndTask(id, s, "no").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kPending);
}

TEST_F(TaskEndingsTest, EndedTasksAreFinalAndEvictableOnceReleased) {
  for (TaskState s : {TaskState::kDeadLettered, TaskState::kSkipped, TaskState::kCancelled}) {
    EXPECT_TRUE(IsFinal(s));
    EXPECT_TRUE(IsEnding(s));
  }
  for (TaskState s : {TaskState::kWaiting, TaskState::kHeld}) EXPECT_FALSE(IsFinal(s));
  const TaskId id = Post(true);
  ASSERT_TRUE(sut->EndTask(id, TaskState::kSkipped, "x").ok());
  EXPECT_TRUE(sut->Erase(id).ok());
}

TEST_F(TaskEndingsTest, StateNamesAreTheOnesToolsPrint) {
  EXPECT_STREQ(TaskStateName(TaskState::kWaiting), "waiting");
  EXPECT_STREQ(TaskStateName(TaskState::kHeld), "held");
  EXPECT_STREQ(TaskStateName(TaskState::kSkipped), "skipped");
  EXPECT_STREQ(TaskStateName(TaskState::kCancelled), "cancelled");
}

}  // namespace
}  // namespace slate
