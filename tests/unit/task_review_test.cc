// A task held for a person: Hold, and the three answers (ResumeHeld,
// AcceptHeld, and EndTask as the reject).
#include <gtest/gtest.h>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::PackStr;
using testing::ScopedPool;
using testing::UnpackStr;

class TaskReviewTest : public ::testing::Test {
 protected:
  void SetUp() override { w = *sut->RegisterAgent({"w", {}, 0}); }
  void TearDown() override {
    const auto problems = sut->Check();
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  // A task that failed its only allowed attempt.
  TaskId Exhausted() {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
    t.assignee = w;
    t.max_retries = 0;
    const TaskId id = sut->PostTask(t).value();
    auto c = sut->ClaimNext(w, 5s);
    EXPECT_TRUE(sut->Fail(id, (*c)->task.epoch, "boom").ok());
    return id;
  }
  uint64_t Count(TaskState s) { return sut->Stats()->tasks_by_state[static_cast<int>(s)]; }

  ScopedPool sut{"review"};
  AgentRef w;
};

TEST_F(TaskReviewTest, AHeldTaskIsInNoQueueAndNotFinal) {
  const TaskId id = Exhausted();
  auto rec = sut->Hold(id, "retries ran out");
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kHeld);
  EXPECT_EQ(Count(TaskState::kHeld), 1u);
  EXPECT_FALSE(sut->ClaimNext(w, 5s)->has_value());
  auto e = sut->Read(*rec);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tags, (std::vector<std::string>{"held", "task:" + std::to_string(id)}));
  // Holding twice, or a running task, is refused.
  EXPECT_EQ(sut->Hold(id, "again").status().code(), StatusCode::kWrongState);
}

TEST_F(TaskReviewTest, ResumeGivesTheTaskItsAttemptsAgain) {
  const TaskId id = Exhausted();
  ASSERT_TRUE(sut->Hold(id, "out").ok());
  ASSERT_TRUE(sut->ResumeHeld(id, w).ok());
  auto t = sut->GetTask(id);
  EXPECT_EQ(t->state, TaskState::kPending);
  EXPECT_EQ(t->attempts, 1u);
  EXPECT_GT(t->max_retries, 0u) << "a second attempt is allowed";
  auto c = sut->ClaimNext(w, 5s);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->task.epoch, 2u) << "the claim fence never goes back";
  EXPECT_TRUE(sut->Complete(id, 2, {{}, 0.5f, PackStr("second")}).ok());
}

TEST_F(TaskReviewTest, AcceptRecordsThePersonsResult) {
  const TaskId id = Exhausted();
  ASSERT_TRUE(sut->Hold(id, "out").ok());
  auto res = sut->AcceptHeld(id, {{"id:x"}, 0.9f, PackStr("by hand")}, "review");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  auto t = sut->GetTask(id);
  EXPECT_EQ(t->state, TaskState::kDone);
  EXPECT_EQ(t->result_id, *res);
  auto e = sut->Read(*res);
  EXPECT_EQ(UnpackStr(e->payload), "by hand");
  EXPECT_EQ(e->author, "review");
  EXPECT_EQ(e->task_id, id);
  // Accepting what is not held is refused, and names the state.
  const auto again = sut->AcceptHeld(id, {{}, 0.5f, PackStr("x")}, "review");
  EXPECT_EQ(again.status().code(), StatusCode::kWrongState);
  EXPECT_NE(again.status().message().find("it is done"), std::string::npos);
}

TEST_F(TaskReviewTest, RejectEndsAHeldTask) {
  const TaskId id = Exhausted();
  ASSERT_TRUE(sut->Hold(id, "out").ok());
  ASSERT_TRUE(sut->EndTask(id, TaskState::kDeadLettered, "rejected by a person").ok());
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kDeadLettered);
  EXPECT_EQ(Count(TaskState::kHeld), 0u);
}

TEST_F(TaskReviewTest, AWaitingTaskCanBeHeld) {
  TaskSpec t;
  t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
  t.waiting = true;
  const TaskId id = sut->PostTask(t).value();
  ASSERT_TRUE(sut->Hold(id, "for a person").ok());
  ASSERT_TRUE(sut->ResumeHeld(id, w).ok());
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kPending);
}

}  // namespace
}  // namespace slate
