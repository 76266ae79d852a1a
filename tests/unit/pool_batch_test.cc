// The batch forms of post, claim and complete: many operations under one
// lock hold, each its own transaction, with per-item outcomes.
#include <gtest/gtest.h>

#include <thread>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::ScopedPool;

class PoolBatchTest : public ::testing::Test {
 protected:
  void SetUp() override { w1 = *sut->RegisterAgent({"w1", {}, 0}); }
  void TearDown() override {
    const auto problems = sut->Check();
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  TaskSpec Spec(const std::string& payload) {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", payload);
    t.assignee = w1;
    return t;
  }
  ScopedPool sut{"batch"};
  AgentRef w1;
};

TEST_F(PoolBatchTest, PostTasksPostsInOrderAndAppendsIds) {
  std::vector<TaskSpec> specs = {Spec("a"), Spec("b"), Spec("c")};
  std::vector<TaskId> ids = {42};  // appended to, not replaced
  ASSERT_TRUE(sut->PostTasks(specs, &ids).ok());
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], 42u);
  EXPECT_LT(ids[1], ids[2]);
  EXPECT_LT(ids[2], ids[3]);
  EXPECT_EQ(testing::UnpackStr(sut->Read(ids[2])->payload), "b");
  EXPECT_EQ(sut->PendingTasks(w1, 10)->size(), 3u);
}

TEST_F(PoolBatchTest, PostTasksStopsAtTheFirstBadSpecKeepingThoseBefore) {
  std::vector<TaskSpec> specs = {Spec("a"), Spec("b"), Spec("c")};
  specs[1].priority = 1000;
  std::vector<TaskId> ids;
  const Status s = sut->PostTasks(specs, &ids);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("priority 1000"), std::string::npos) << s.message();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(sut->PendingTasks(w1, 10)->size(), 1u);
}

TEST_F(PoolBatchTest, PostTasksToAnUnknownAgentPostsNothing) {
  std::vector<TaskSpec> specs = {Spec("a")};
  specs[0].assignee = AgentRef{7, 1};
  std::vector<TaskId> ids;
  EXPECT_EQ(sut->PostTasks(specs, &ids).code(), StatusCode::kNotFound);
  EXPECT_TRUE(ids.empty());
}

TEST_F(PoolBatchTest, ClaimBatchTakesUpToMaxInClaimOrder) {
  std::vector<TaskSpec> specs;
  for (int i = 0; i < 5; ++i) specs.push_back(Spec("t" + std::to_string(i)));
  std::vector<TaskId> ids;
  ASSERT_TRUE(sut->PostTasks(specs, &ids).ok());
  std::vector<Claim> claims;
  ASSERT_TRUE(sut->ClaimBatch(w1, 5s, 3, &claims).ok());
  ASSERT_EQ(claims.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(claims[i].task.id, ids[i]);
    EXPECT_EQ(claims[i].task.state, TaskState::kRunning);
    EXPECT_EQ(claims[i].entry.id, ids[i]);
    EXPECT_EQ(testing::UnpackStr(claims[i].entry.payload), "t" + std::to_string(i));
    EXPECT_EQ(claims[i].entry.author, "sup");
  }
  // The same vector again: replaced, not appended to.
  ASSERT_TRUE(sut->ClaimBatch(w1, 5s, 10, &claims).ok());
  ASSERT_EQ(claims.size(), 2u);
  EXPECT_EQ(claims[1].task.id, ids[4]);
  ASSERT_TRUE(sut->ClaimBatch(w1, 5s, 10, &claims).ok());
  EXPECT_TRUE(claims.empty());
}

// Claims a batch shrank away lend their payload buffers to the claims of a
// later, larger batch: each claim must show only its own task.
TEST_F(PoolBatchTest, ClaimBatchGrowingAReusedVectorShowsOnlyEachClaimsTask) {
  std::vector<TaskId> ids;
  std::vector<TaskSpec> big(3);
  for (int i = 0; i < 3; ++i) big[i] = Spec(std::string(300, static_cast<char>('a' + i)));
  ASSERT_TRUE(sut->PostTasks(big, &ids).ok());
  std::vector<Claim> claims;
  ASSERT_TRUE(sut->ClaimBatch(w1, 5s, 3, &claims).ok());
  ASSERT_EQ(claims.size(), 3u);
  ASSERT_TRUE(sut->PostTasks(std::vector<TaskSpec>{Spec("one")}, &ids).ok());
  ASSERT_TRUE(sut->ClaimBatch(w1, 5s, 3, &claims).ok());  // shrinks to one
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(testing::UnpackStr(claims[0].entry.payload), "one");
  std::vector<TaskSpec> small(3);
  for (int i = 0; i < 3; ++i) small[i] = Spec("s" + std::to_string(i));
  small[1].entry.tags = {"tagged"};
  small[2].entry.payload.clear();
  ASSERT_TRUE(sut->PostTasks(small, &ids).ok());
  ASSERT_TRUE(sut->ClaimBatch(w1, 5s, 3, &claims).ok());  // grows to three
  ASSERT_EQ(claims.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(claims[i].task.id, ids[4 + i]);
  EXPECT_EQ(testing::UnpackStr(claims[0].entry.payload), "s0");
  EXPECT_TRUE(claims[0].entry.tags.empty());
  EXPECT_EQ(claims[1].entry.tags, std::vector<std::string>{"tagged"});
  EXPECT_TRUE(claims[2].entry.payload.empty());
}

TEST_F(PoolBatchTest, ClaimBatchRefusesTheSharedQueueAndEmptiesOut) {
  std::vector<Claim> claims(2);
  EXPECT_EQ(sut->ClaimBatch(kSharedQueue, 5s, 4, &claims).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(claims.empty());
}

TEST_F(PoolBatchTest, CompleteBatchReportsEachItemOnItsOwn) {
  std::vector<TaskSpec> specs = {Spec("a"), Spec("b"), Spec("c")};
  std::vector<TaskId> ids;
  ASSERT_TRUE(sut->PostTasks(specs, &ids).ok());
  std::vector<Claim> claims;
  ASSERT_TRUE(sut->ClaimBatch(w1, 5s, 3, &claims).ok());
  std::vector<Completion> done(3);
  for (size_t i = 0; i < 3; ++i) {
    done[i].id = claims[i].task.id;
    done[i].epoch = claims[i].task.epoch;
    done[i].result.payload = testing::PackStr("r" + std::to_string(i));
  }
  done[1].epoch += 1;                          // a stale claim
  done[2].result.payload = {0xc1};             // not msgpack
  std::vector<Result<EntryId>> out;
  sut->CompleteBatch(done, w1, &out);
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  EXPECT_EQ(out[1].status().code(), StatusCode::kStaleEpoch);
  EXPECT_EQ(out[2].status().code(), StatusCode::kInvalidArgument);
  const Entry result = *sut->Read(*out[0]);
  EXPECT_EQ(result.task_id, ids[0]);
  EXPECT_EQ(result.author, "w1");
  EXPECT_EQ(sut->GetTask(ids[0])->state, TaskState::kDone);
  EXPECT_EQ(sut->GetTask(ids[1])->state, TaskState::kRunning);
  EXPECT_EQ(sut->GetTask(ids[2])->state, TaskState::kRunning);
  // The refused completion left its conflict record, as Complete does.
  Query q;
  q.segments = {"conflicts"};
  EXPECT_EQ(sut->Find(q)->size(), 1u);
}

TEST_F(PoolBatchTest, WaitClaimBatchWakesForATaskPostedLater) {
  std::thread poster([&] {
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(sut->PostTask(Spec("late")).ok());
  });
  std::vector<Claim> claims;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->WaitClaimBatch(w1, 5s, 8, 5s, &claims).ok());
  poster.join();
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(testing::UnpackStr(claims[0].entry.payload), "late");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_F(PoolBatchTest, WaitClaimBatchTimesOutEmpty) {
  std::vector<Claim> claims;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sut->WaitClaimBatch(w1, 5s, 8, 100ms, &claims).ok());
  EXPECT_TRUE(claims.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
}

}  // namespace
}  // namespace slate
