// The lock profile: off, a Guard records nothing; on, each hold is counted
// under the operation that took it, with its wait and hold times.
#include "slate/internal/lock_profile.h"

#include <gtest/gtest.h>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using internal::LockUse;
using testing::MakeEntry;
using testing::ScopedPool;

const internal::LockUseTally& Tally(const internal::LockProfile& p, LockUse u) {
  return p.use[static_cast<int>(u)];
}

class LockProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w1 = *sut->RegisterAgent({"w1", {}, 0});
    internal::TakeLockProfile();  // whatever ran before this test
  }
  void TearDown() override {
    internal::EnableLockProfile(false);
    internal::TakeLockProfile();
  }
  // Posts one task, claims and completes it, reads its result back.
  void RunOneTask() {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "x");
    t.assignee = w1;
    std::vector<TaskId> ids;
    ASSERT_TRUE(sut->PostTasks(std::span<const TaskSpec>(&t, 1), &ids).ok());
    std::vector<Claim> claims;
    ASSERT_TRUE(sut->ClaimBatch(w1, 10s, 8, &claims).ok());
    ASSERT_EQ(claims.size(), 1u);
    std::vector<Completion> done(1);
    done[0].id = claims[0].task.id;
    done[0].epoch = claims[0].task.epoch;
    done[0].result.payload = claims[0].entry.payload;
    std::vector<Result<EntryId>> outcomes;
    sut->CompleteBatch(done, w1, &outcomes);
    ASSERT_TRUE(outcomes.at(0).ok()) << outcomes[0].status().message();
    Query q;
    q.segments = {"results"};
    q.after_id = ids[0];  // this task's result only
    std::vector<Entry> found;
    ASSERT_TRUE(sut->FindInto(q, &found).ok());
    ASSERT_EQ(found.size(), 1u);
  }
  ScopedPool sut{"lockprof"};
  AgentRef w1;
};

TEST_F(LockProfileTest, OffRecordsNothing) {
  RunOneTask();
  const auto p = internal::TakeLockProfile();
  for (const auto& t : p.use) {
    EXPECT_EQ(t.holds, 0u);
    EXPECT_EQ(t.hold_ns, 0u);
  }
}

TEST_F(LockProfileTest, OnCountsEachHoldUnderItsOperation) {
  internal::EnableLockProfile(true);
  RunOneTask();
  const auto p = internal::TakeLockProfile();
  for (LockUse u : {LockUse::kPost, LockUse::kClaim, LockUse::kComplete, LockUse::kRead}) {
    EXPECT_EQ(Tally(p, u).holds, 1u) << internal::LockUseName(u);
    EXPECT_GT(Tally(p, u).hold_ns, 0u) << internal::LockUseName(u);
  }
  // A plain read is none of the four.
  ASSERT_TRUE(sut->Stats().ok());
  EXPECT_EQ(Tally(internal::TakeLockProfile(), LockUse::kOther).holds, 1u);
}

TEST_F(LockProfileTest, TakeResetsAndAddSums) {
  internal::EnableLockProfile(true);
  RunOneTask();
  auto first = internal::TakeLockProfile();
  EXPECT_EQ(Tally(internal::TakeLockProfile(), LockUse::kPost).holds, 0u);
  RunOneTask();
  first.Add(internal::TakeLockProfile());
  EXPECT_EQ(Tally(first, LockUse::kPost).holds, 2u);
  EXPECT_EQ(Tally(first, LockUse::kComplete).holds, 2u);
}

}  // namespace
}  // namespace slate
