// Preemption: a running task taken back for more urgent work keeps its
// retries, leaves a "preempted" record, and its holder's claim is stale.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::PackStr;
using testing::ScopedPool;

class TaskPreemptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sup = *sut->RegisterAgent({"sup", {}, 0, AgentRole::kSupervisor});
    w = *sut->RegisterAgent({"w", {}, 0});
  }
  void TearDown() override {
    const auto problems = sut->Check();
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  ScopedPool sut{"preempt"};
  AgentRef sup, w;
};

TEST_F(TaskPreemptTest, APreemptedTaskGoesBackKeepingItsRetries) {
  TaskSpec t;
  t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
  t.assignee = w;
  t.max_retries = 0;
  const TaskId id = sut->PostTask(t).value();
  const auto c = sut->ClaimNext(w, 30s).value();
  ASSERT_TRUE(c.has_value());
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

TEST_F(TaskPreemptTest, TheHolderIsWokenAtOnce) {
  TaskSpec t;
  t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "p");
  t.assignee = w;
  const TaskId id = sut->PostTask(t).value();
  ASSERT_TRUE(sut->ClaimNext(w, 30s).value().has_value());
  std::atomic<bool> woke{false};
  std::thread holder([&] {
    sut->AwaitWake(w, 10s);
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
