#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <msgpack.hpp>
#include <thread>

#include "slate/clock.h"
#include "slate/internal/layout.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::ScopedPool;

class PoolTasksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w1 = *sut->RegisterAgent({"w1", {"cpu"}, 0});
    w2 = *sut->RegisterAgent({"w2", {"gpu"}, 0});
  }
  TaskId Post(AgentRef to, int priority = 0, const std::string& payload = "p",
              const std::string& requires_cap = "") {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", payload);
    t.priority = priority;
    t.assignee = to;
    t.requires_cap = requires_cap;
    auto id = sut->PostTask(t);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  Claim MustClaim(AgentRef a) {
    auto c = sut->ClaimNext(a, 5s);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? **c : Claim{};
  }
  TaskResult Res(const std::string& s) {
    TaskResult r;
    r.payload = testing::PackStr(s);
    return r;
  }
  void TearDown() override {
    const auto problems = sut->Check();
    EXPECT_TRUE(problems.empty()) << problems.front();
  }

  ScopedPool sut{"tasks"};
  AgentRef w1, w2;
};

TEST_F(PoolTasksTest, ClaimTakesHighestPriorityThenOldest) {
  const TaskId low = Post(w1, -5);
  const TaskId mid1 = Post(w1, 0);
  const TaskId high = Post(w1, 100);
  const TaskId mid2 = Post(w1, 0);
  std::vector<TaskId> order;
  for (int i = 0; i < 4; ++i) order.push_back(MustClaim(w1).task.id);
  EXPECT_EQ(order, (std::vector<TaskId>{high, mid1, mid2, low}));
  auto none = sut->ClaimNext(w1, 1s);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(PoolTasksTest, ClaimGivesEpochLeaseAttemptAndPayload) {
  const TaskId id = Post(w1, 0, "work");
  const int64_t now = NowMonoNs();
  const Claim c = MustClaim(w1);
  EXPECT_EQ(c.task.id, id);
  EXPECT_EQ(c.task.state, TaskState::kRunning);
  EXPECT_EQ(c.task.epoch, 1u);
  EXPECT_EQ(c.task.attempts, 1u);
  EXPECT_GE(c.task.lease_deadline_mono_ns, now + 4'000'000'000);
  EXPECT_EQ(c.task.assignee, w1);
  EXPECT_EQ(testing::UnpackStr(c.entry.payload), "work");
  EXPECT_EQ(c.entry.author, "sup");
  EXPECT_EQ(*sut->RunningTasks(w1), std::vector<TaskId>{id});
}

TEST_F(PoolTasksTest, CompleteRecordsExactlyOneResult) {
  const TaskId id = Post(w1);
  const Claim c = MustClaim(w1);
  auto res = sut->Complete(id, c.task.epoch, Res("answer"));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  auto task = sut->GetTask(id);
  EXPECT_EQ(task->state, TaskState::kDone);
  EXPECT_EQ(task->result_id, *res);
  auto r = sut->Read(*res);
  EXPECT_EQ(r->segment, "results");
  EXPECT_EQ(r->author, "w1");
  EXPECT_TRUE(r->live);  // until aggregated
  auto again = sut->Complete(id, c.task.epoch, Res("again"));
  EXPECT_EQ(again.status().code(), StatusCode::kStaleEpoch);
  Query q;
  q.segments = {"results"};
  EXPECT_EQ(sut->Find(q)->size(), 1u);
  ASSERT_TRUE(sut->MarkAggregated(*res).ok());
  EXPECT_FALSE(sut->Read(*res)->live);
  auto agents = sut->ListAgents(10s);
  EXPECT_EQ(agents->at(0).done, 1u);
}

TEST_F(PoolTasksTest, AResultKeepsItsClaimsRunTime) {
  const TaskId id = Post(w1);
  const Claim c = MustClaim(w1);
  std::this_thread::sleep_for(20ms);
  auto res = sut->Complete(id, c.task.epoch, Res("answer"));
  ASSERT_TRUE(res.ok());
  const Entry r = *sut->Read(*res);
  const Entry task = *sut->Read(id);
  EXPECT_GE(r.run_ns, 20'000'000);
  EXPECT_LE(r.run_ns, r.created_ns - task.created_ns) << "within posting to result";
  NewEntry e = MakeEntry("results", {}, 0.5f, "w1");
  EXPECT_EQ(sut->Read(*sut->Write(e))->run_ns, 0) << "no claim, no run time";
}

TEST(RunTimeTest, MicrosecondsThenMillisecondsThenSaturated) {
  using internal::DecodeRun;
  using internal::EncodeRun;
  EXPECT_EQ(DecodeRun(0), 0) << "unknown";
  EXPECT_EQ(DecodeRun(EncodeRun(0)), 1000) << "a run is at least 1 us";
  EXPECT_EQ(DecodeRun(EncodeRun(1'234'567)), 1'234'000);
  const int64_t half_hour = int64_t{30} * 60 * 1'000'000'000;
  EXPECT_EQ(DecodeRun(EncodeRun(half_hour + 1'999)), half_hour + 1'000);
  const int64_t hour = 2 * half_hour;
  EXPECT_EQ(DecodeRun(EncodeRun(hour + 999'999)), hour) << "to the ms past 35 min";
  const int64_t month = int64_t{30} * 24 * 3600 * 1'000'000'000;
  EXPECT_EQ(DecodeRun(EncodeRun(month)), int64_t{(1u << 31) - 1} * 1'000'000);
}

TEST_F(PoolTasksTest, StaleEpochIsRefusedAndRecordedAsConflict) {
  const TaskId id = Post(w1);
  const Claim first = MustClaim(w1);
  ASSERT_TRUE(sut->Reassign(id, w2).ok());
  const Claim second = MustClaim(w2);
  EXPECT_EQ(second.task.epoch, first.task.epoch + 1);
  auto late = sut->Complete(id, first.task.epoch, Res("late"));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kStaleEpoch);
  EXPECT_NE(late.status().message().find("epoch 1 refused"), std::string::npos);
  EXPECT_EQ(sut->RenewLease(id, first.task.epoch, 1s).code(), StatusCode::kStaleEpoch);
  EXPECT_EQ(sut->Fail(id, first.task.epoch, "x").code(), StatusCode::kStaleEpoch);
  ASSERT_TRUE(sut->Complete(id, second.task.epoch, Res("ok")).ok());
  Query q;
  q.segments = {"conflicts"};
  q.all_tags = {"stale-epoch", "task:" + std::to_string(id)};
  EXPECT_EQ(sut->Find(q)->size(), 3u);
  EXPECT_EQ(sut->Stats()->stale_completions, 3u);
}

TEST_F(PoolTasksTest, RenewExtendsTheLease) {
  const TaskId id = Post(w1);
  const Claim c = MustClaim(w1);
  ASSERT_TRUE(sut->RenewLease(id, c.task.epoch, 60s).ok());
  EXPECT_GT(sut->GetTask(id)->lease_deadline_mono_ns,
            c.task.lease_deadline_mono_ns + 50'000'000'000);
}

TEST_F(PoolTasksTest, FailRecordsErrorThenRetryThenDeadLetter) {
  const TaskId id = Post(w1);
  Claim c = MustClaim(w1);
  ASSERT_TRUE(sut->Fail(id, c.task.epoch, "boom").ok());
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kFailed);
  Query q;
  q.segments = {"errors"};
  q.all_tags = {"failure", "task:" + std::to_string(id)};
  auto errs = sut->Find(q);
  ASSERT_EQ(errs->size(), 1u);
  EXPECT_TRUE(errs->front().live);
  EXPECT_EQ(sut->ClaimNext(w1, 1s)->has_value(), false);
  ASSERT_TRUE(sut->Retry(id, w2).ok());
  c = MustClaim(w2);
  EXPECT_EQ(c.task.attempts, 2u);
  EXPECT_EQ(c.task.last_agent, w2);
  ASSERT_TRUE(sut->Fail(id, c.task.epoch, "boom again").ok());
  auto dl = sut->DeadLetter(id, "gave up after 2 attempts");
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(sut->GetTask(id)->state, TaskState::kDeadLettered);
  EXPECT_EQ(sut->Read(*dl)->tags, (std::vector<std::string>{"dead-letter", "task:" + std::to_string(id)}));
  EXPECT_EQ(sut->DeadLetter(id, "again").status().code(), StatusCode::kWrongState);
  EXPECT_EQ(sut->Retry(id, w1).code(), StatusCode::kWrongState);
  EXPECT_EQ(sut->ListAgents(10s)->at(0).failed, 1u);
}

TEST_F(PoolTasksTest, CapabilitiesDecideWhoMayHoldATask) {
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.requires_cap = "gpu";
  t.assignee = w1;
  auto refused = sut->PostTask(t);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("lacks capability 'gpu'"), std::string::npos);
  const TaskId shared = Post(kSharedQueue, 0, "p", "gpu");
  auto none = sut->ClaimNext(w1, 1s);
  EXPECT_FALSE(none->has_value());  // w1 has no gpu
  EXPECT_EQ(MustClaim(w2).task.id, shared);
  EXPECT_EQ(sut->Reassign(shared, w1).code(), StatusCode::kInvalidArgument);
}

TEST_F(PoolTasksTest, OwnQueueBeforeSharedQueue) {
  const TaskId shared = Post(kSharedQueue, 100);
  const TaskId own = Post(w1, -100);
  EXPECT_EQ(MustClaim(w1).task.id, own);
  EXPECT_EQ(MustClaim(w1).task.id, shared);
}

TEST_F(PoolTasksTest, TaskPastItsDeadlineIsDeadLetteredNotRun) {
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.assignee = w1;
  t.deadline_ns = NowRealNs() - 1;
  const TaskId late = *sut->PostTask(t);
  const TaskId ok = Post(w1);
  EXPECT_EQ(MustClaim(w1).task.id, ok);
  EXPECT_EQ(sut->GetTask(late)->state, TaskState::kDeadLettered);
}

TEST_F(PoolTasksTest, DeadlinesKeepTheirMillisecondAndFarOnesAreClamped) {
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.assignee = w1;
  const int64_t deadline = NowRealNs() + int64_t{3'600} * 1'000'000'000 + 123'456;
  t.deadline_ns = deadline;
  const TaskId soon = *sut->PostTask(t);
  const int64_t back = sut->GetTask(soon)->deadline_ns;
  EXPECT_LE(back, deadline);  // never started after the deadline asked for
  EXPECT_GT(back, deadline - 1'000'000);
  t.deadline_ns = std::numeric_limits<int64_t>::max();
  const TaskId far = *sut->PostTask(t);
  const int64_t fifteen_years = int64_t{15} * 365 * 86'400 * 1'000'000'000;
  EXPECT_GT(sut->GetTask(far)->deadline_ns, NowRealNs() + fifteen_years);
  EXPECT_EQ(MustClaim(w1).task.id, soon);
  EXPECT_EQ(MustClaim(w1).task.id, far);  // far ahead, not wrapped into the past
}

TEST_F(PoolTasksTest, LeasesOver24DaysAreRefused) {
  const TaskId id = Post(w1);
  const auto days = [](int n) { return std::chrono::milliseconds(std::chrono::hours(24 * n)); };
  auto refused = sut->ClaimNext(w1, days(25));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("exceeds 24 days"), std::string::npos);
  const Claim c = MustClaim(w1);
  ASSERT_EQ(c.task.id, id);
  EXPECT_EQ(sut->RenewLease(id, c.task.epoch, days(25), w1).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(sut->RenewLease(id, c.task.epoch, days(24), w1).ok());
  EXPECT_GT(sut->GetTask(id)->lease_deadline_mono_ns,
            NowMonoNs() + int64_t{23} * 86'400 * 1'000'000'000);
  EXPECT_TRUE(sut->ExpiredLeases()->empty());
}

TEST_F(PoolTasksTest, AResultWrittenOver2To32IdsAfterItsTaskIsStillFound) {
  const TaskId id = Post(w1);
  const Claim c = MustClaim(w1);
  {
    // As if four billion entries had come and gone while it ran.
    testing::RawView v(sut.name());
    v.r().header().counters.next_id += (uint64_t{1} << 32) + 5;
  }
  TaskResult res;
  res.payload = testing::PackStr("r");
  const auto result = sut->Complete(id, c.task.epoch, res, w1);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GT(*result - id, uint64_t{1} << 32);
  EXPECT_EQ(sut->GetTask(id)->result_id, *result);
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(PoolTasksTest, BadTaskSpecsAreRefused) {
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.priority = 128;
  EXPECT_EQ(sut->PostTask(t).status().code(), StatusCode::kInvalidArgument);
  t.priority = 0;
  t.max_retries = 256;
  EXPECT_EQ(sut->PostTask(t).status().code(), StatusCode::kInvalidArgument);
  t.max_retries = 1;
  t.requires_cap = "has space";
  EXPECT_EQ(sut->PostTask(t).status().code(), StatusCode::kInvalidArgument);
  t.requires_cap = "";
  t.assignee = AgentRef{w1.row, w1.generation + 7};
  EXPECT_EQ(sut->PostTask(t).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sut->ClaimNext(kSharedQueue, 1s).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sut->Complete(999, 1, Res("x")).status().code(), StatusCode::kNotFound);
}

TEST_F(PoolTasksTest, PendingTasksListsClaimOrder) {
  const TaskId a = Post(w1, 1);
  const TaskId b = Post(w1, 5);
  const TaskId c = Post(w1, 1);
  EXPECT_EQ(*sut->PendingTasks(w1, 0), (std::vector<TaskId>{b, a, c}));
  EXPECT_EQ(*sut->PendingTasks(w1, 2), (std::vector<TaskId>{b, a}));
}

TEST_F(PoolTasksTest, OnePerPriorityIsEachPrioritysOldest) {
  const TaskId a = Post(w1, 1);
  const TaskId b = Post(w1, 5);
  Post(w1, 1);
  Post(w1, 5);
  const TaskId e = Post(w1, -3);
  EXPECT_EQ(*sut->PendingTasks(w1, 0, 1), (std::vector<TaskId>{b, a, e}));
  const auto info = sut->GetTask(a);
  EXPECT_GT(info->created_ns, 0);
  EXPECT_LE(info->created_ns, sut->GetTask(b)->created_ns);
}

// One request's share of a backlog: its ids, found from whichever end of
// each priority's list is nearer, in claim order.
TEST_F(PoolTasksTest, AnIdRangeReadsOnlyItsShareInClaimOrder) {
  std::vector<TaskId> low, high;
  for (int i = 0; i < 6; ++i) low.push_back(Post(w1, 0));
  for (int i = 0; i < 3; ++i) high.push_back(Post(w1, 2));
  const TaskId lo = low[4], hi = high[2];  // [low[4], high[2])
  EXPECT_EQ(*sut->PendingTasks(w1, 0, 0, {lo, hi}),
            (std::vector<TaskId>{high[0], high[1], low[4], low[5]}));
  EXPECT_EQ(*sut->PendingTasks(w1, 3, 0, {lo, hi}),
            (std::vector<TaskId>{high[0], high[1], low[4]}));
  EXPECT_EQ(*sut->PendingTasks(w1, 0, 1, {lo, hi}), (std::vector<TaskId>{high[0], low[4]}));
  // From the start, near the head, past the end, open-ended.
  EXPECT_EQ(*sut->PendingTasks(w1, 0, 0, {low[1], low[3]}),
            (std::vector<TaskId>{low[1], low[2]}));
  EXPECT_TRUE(sut->PendingTasks(w1, 0, 0, {high[2] + 1})->empty());
  EXPECT_EQ(*sut->PendingTasks(w1, 0, 0, {high[2]}), std::vector<TaskId>{high[2]});
  EXPECT_EQ(sut->PendingTasks(w1, 0, 0, {0, low[0]})->size(), 0u);
  // The range holds whatever of it is pending, wherever it sits.
  Claim c = MustClaim(w1);
  EXPECT_EQ(c.task.id, high[0]);
  EXPECT_EQ(*sut->PendingTasks(w1, 0, 0, {high[0], high[2]}), std::vector<TaskId>{high[1]});
}

TEST_F(PoolTasksTest, RetriedTaskGoesBackToItsPlaceByAge) {
  const TaskId a = Post(w1);
  Claim c = MustClaim(w1);
  const TaskId b = Post(w1);
  ASSERT_TRUE(sut->Fail(a, c.task.epoch, "x").ok());
  ASSERT_TRUE(sut->Retry(a, w1).ok());
  EXPECT_EQ(*sut->PendingTasks(w1, 0), (std::vector<TaskId>{a, b}));
}

TEST_F(PoolTasksTest, WaitClaimWakesWhenATaskIsPosted) {
  std::thread poster([&] {
    std::this_thread::sleep_for(50ms);
    Post(w1);
  });
  const auto start = std::chrono::steady_clock::now();
  auto c = sut->WaitClaim(w1, 5s, 5s);
  poster.join();
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(PoolTasksTest, WaitClaimWakesForTheSharedQueue) {
  std::thread poster([&] {
    std::this_thread::sleep_for(50ms);
    Post(kSharedQueue);
  });
  auto c = sut->WaitClaim(w1, 5s, 5s);
  poster.join();
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->has_value());
}

TEST_F(PoolTasksTest, UnfinishedTaskCannotBeErased) {
  const TaskId id = Post(w1);
  EXPECT_EQ(sut->Erase(id).code(), StatusCode::kWrongState);
  const Claim c = MustClaim(w1);
  auto res = sut->Complete(id, c.task.epoch, Res("r"));
  EXPECT_TRUE(sut->Erase(id).ok());
}

}  // namespace
}  // namespace slate

namespace slate {
namespace {

TEST(PoolDispatchTest, SupervisorHoldsAnyTaskAsABacklogWorkersCannotClaim) {
  testing::ScopedPool sut("dispatch");
  const AgentRef sup = sut->RegisterAgent({"sup", {}, 0, AgentRole::kSupervisor}).value();
  const AgentRef gpu = sut->RegisterAgent({"gpu-worker", {"gpu"}, 0}).value();
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.requires_cap = "gpu";
  t.assignee = sup;
  const TaskId id = sut->PostTask(t).value();
  EXPECT_FALSE(sut->ClaimNext(gpu, 1s)->has_value());  // not in the shared queue
  ASSERT_TRUE(sut->Reassign(id, gpu).ok());
  const Claim c = **sut->ClaimNext(gpu, 1s);
  // A dead worker's tasks go back to the backlog, not to the shared queue.
  ASSERT_TRUE(sut->Deregister(gpu, sup).ok());
  EXPECT_EQ(*sut->PendingTasks(sup, 0), std::vector<TaskId>{id});
  EXPECT_EQ(sut->ListAgents(10s)->at(0).role, AgentRole::kSupervisor);
  EXPECT_EQ(sut->Deregister(sup, sup).code(), StatusCode::kInvalidArgument);
  (void)c;
  EXPECT_TRUE(sut->Check().empty());
}

TEST(PoolDispatchTest, StaleRecordNamesTheRefusedCallerAndTheHolder) {
  testing::ScopedPool sut("evidence");
  const AgentRef a = sut->RegisterAgent({"alice", {}, 0}).value();
  const AgentRef b = sut->RegisterAgent({"bob", {}, 0}).value();
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.assignee = a;
  const TaskId id = sut->PostTask(t).value();
  const Claim first = **sut->ClaimNext(a, 5s);
  ASSERT_TRUE(sut->Reassign(id, b).ok());
  const Claim second = **sut->ClaimNext(b, 5s);
  EXPECT_EQ(sut->Complete(id, first.task.epoch, {}, a).status().code(), StatusCode::kStaleEpoch);
  auto res = sut->Complete(id, second.task.epoch, {}, b);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(sut->Read(*res)->author, "bob");
  Query q;
  q.segments = {"conflicts"};
  const auto conflicts = sut->Find(q).value();
  ASSERT_EQ(conflicts.size(), 1u);
  const auto& bytes = conflicts[0].payload;
  auto h = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const auto m = h.get().as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(m.at("refused").as<std::string>(), "alice");
  EXPECT_EQ(m.at("holder").as<std::string>(), "bob");
  EXPECT_EQ(m.at("task").as<uint64_t>(), id);
}

}  // namespace
}  // namespace slate

namespace slate {
namespace {

TEST(PoolKeptTaskTest, AKeptFinalTaskStaysUntilReleased) {
  PoolOptions o = testing::SmallOptions("kepttask");
  o.slot_capacity = 16;
  testing::ScopedPool sut(o);
  const AgentRef w = sut->RegisterAgent({"w", {}, 0}).value();
  TaskSpec t;
  t.entry = MakeEntry("tasks", {}, 0.0f);
  t.entry.keep = true;
  t.assignee = w;
  const TaskId id = sut->PostTask(t).value();
  const Claim c = **sut->ClaimNext(w, 5s);
  const EntryId res = sut->Complete(id, c.task.epoch, {}).value();
  ASSERT_TRUE(sut->MarkAggregated(res).ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(sut->Write(MakeEntry("noise", {}, 0.9f)).ok());
  EXPECT_TRUE(sut->GetTask(id).ok());
  EXPECT_EQ(sut->Erase(id).code(), StatusCode::kWrongState);
  ASSERT_TRUE(sut->Release(id).ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(sut->Write(MakeEntry("noise", {}, 0.9f)).ok());
  EXPECT_EQ(sut->GetTask(id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate

namespace slate {
namespace {

TEST(PoolLostRecordTest, TakingARunningTaskAwayRecordsTheLossPendingDoesNot) {
  testing::ScopedPool sut("lost");
  const AgentRef a = sut->RegisterAgent({"a", {}, 0}).value();
  const AgentRef b = sut->RegisterAgent({"b", {}, 0}).value();
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  t.assignee = a;
  const TaskId id = sut->PostTask(t).value();
  ASSERT_TRUE(sut->Reassign(id, b).ok());  // pending: nothing lost
  Query q;
  q.segments = {"errors"};
  q.all_tags = {"lost", "task:" + std::to_string(id)};
  EXPECT_TRUE(sut->Find(q)->empty());
  ASSERT_TRUE((*sut->ClaimNext(b, 5s)).has_value());
  ASSERT_TRUE(sut->Reassign(id, a, "b went quiet").ok());
  const auto lost = *sut->Find(q);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_TRUE(lost[0].live);  // until someone resolves it
  auto h = msgpack::unpack(reinterpret_cast<const char*>(lost[0].payload.data()),
                           lost[0].payload.size());
  const auto m = h.get().as<std::map<std::string, msgpack::object>>();
  EXPECT_EQ(m.at("error").as<std::string>(), "b went quiet");
  EXPECT_EQ(m.at("agent").as<std::string>(), "b");
  EXPECT_EQ(m.at("attempt").as<int>(), 1);
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate

namespace slate {
namespace {

TEST(PoolExpiredLeasesTest, ListsOnlyRunningTasksPastTheirLease) {
  testing::ScopedPool sut("expired");
  const AgentRef a = sut->RegisterAgent({"a", {}, 0}).value();
  const AgentRef b = sut->RegisterAgent({"b", {}, 0}).value();
  for (AgentRef to : {a, b}) {
    TaskSpec t;
    t.entry = MakeEntry("tasks");
    t.assignee = to;
    (void)sut->PostTask(t).value();
  }
  const Claim short_lease = **sut->ClaimNext(a, 1ms);
  (void)**sut->ClaimNext(b, 60s);
  std::this_thread::sleep_for(5ms);
  const auto expired = *sut->ExpiredLeases();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, short_lease.task.id);
  EXPECT_EQ(expired[0].assignee, a);
}

}  // namespace
}  // namespace slate
