// The supervisors' lead: one term at a time, held by one agent.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::ScopedPool;

TEST(LeadershipTest, OneLeadsOthersAreToldWhoAndALeavingLeaderGivesItUp) {
  ScopedPool sut("lead");
  EXPECT_EQ(sut->Leader()->term, 0u) << "never taken";
  const AgentRef a = *sut->RegisterAgent({"sup-a", {}, 0, AgentRole::kSupervisor});
  const AgentRef b = *sut->RegisterAgent({"sup-b", {}, 0, AgentRole::kSupervisor});
  EXPECT_EQ(*sut->AcquireLeadership(a, 10s), 1u);
  EXPECT_EQ(*sut->AcquireLeadership(a, 10s, 1), 1u) << "a renewal keeps the term";
  auto refused = sut->AcquireLeadership(b, 10s);
  EXPECT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("'sup-a'"), std::string::npos);
  EXPECT_NE(refused.status().message().find("term 1"), std::string::npos);
  const LeaderInfo lead = *sut->Leader();
  EXPECT_EQ(lead.term, 1u);
  EXPECT_EQ(lead.holder, a);
  EXPECT_EQ(lead.name, "sup-a");
  EXPECT_EQ(lead.pid, getpid());
  EXPECT_TRUE(lead.alive);
  EXPECT_GT(lead.expires_in_ns, 9'000'000'000);
  EXPECT_EQ(sut->Stats()->lead_term, 1u);
  EXPECT_EQ(sut->Stats()->lead_holder, a);
  // Leaving gives it up at once; the next leader begins term 2.
  ASSERT_TRUE(sut->Deregister(a).ok());
  EXPECT_EQ(sut->Leader()->holder.row, 0u);
  EXPECT_EQ(*sut->AcquireLeadership(b, 10s), 2u);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(LeadershipTest, ALeaseRunOutLetsAnotherLeadAndTheOldTermIsOver) {
  ScopedPool sut("leadlease");
  const AgentRef a = *sut->RegisterAgent({"sup-a", {}, 0, AgentRole::kSupervisor});
  const AgentRef b = *sut->RegisterAgent({"sup-b", {}, 0, AgentRole::kSupervisor});
  ASSERT_EQ(*sut->AcquireLeadership(a, 20ms), 1u);
  std::this_thread::sleep_for(40ms);  // a stopped leader's lease runs out
  EXPECT_LT(sut->Leader()->expires_in_ns, 0);
  EXPECT_EQ(*sut->AcquireLeadership(b, 10s), 2u);
  // The old leader, continued, cannot renew, nor start a term of its own
  // by renewing.
  auto stale = sut->AcquireLeadership(a, 10s, 1);
  EXPECT_EQ(stale.status().code(), StatusCode::kStaleTerm);
  EXPECT_NE(stale.status().message().find("held by 'sup-b'"), std::string::npos);
  EXPECT_EQ(sut->Leader()->holder, b);
  EXPECT_EQ(sut->Leader()->term, 2u);
  EXPECT_EQ(sut->AcquireLeadership(a, 0ms).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(LeadershipTest, ADeadLeadersTermEndsAtOnceWhateverItsLease) {
  ScopedPool sut("leaddead");
  const pid_t child = testing::ForkChild([] {
    pause();
    return 0;
  });
  const AgentRef dead = *sut->RegisterAgent({"sup-dead", {}, child, AgentRole::kSupervisor});
  ASSERT_EQ(*sut->AcquireLeadership(dead, 3600s), 1u);
  const AgentRef next = *sut->RegisterAgent({"sup-next", {}, 0, AgentRole::kSupervisor});
  EXPECT_EQ(sut->AcquireLeadership(next, 10s).status().code(), StatusCode::kAlreadyExists);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(sut->Leader()->alive);
  EXPECT_EQ(*sut->AcquireLeadership(next, 10s), 2u);
  EXPECT_TRUE(sut->Check().empty()) << "a dead agent's row may lose the lead, not be left holding it";
}

// Supervisors started at once: every one registers, exactly one leads.
TEST(LeadershipTest, OfManyAtOnceExactlyOneLeads) {
  ScopedPool sut("leadrace");
  constexpr int kContenders = 8;
  std::vector<AgentRef> refs;
  for (int i = 0; i < kContenders; ++i)
    refs.push_back(*sut->RegisterAgent({"sup-" + std::to_string(i), {}, 0, AgentRole::kSupervisor}));
  std::atomic<int> leaders{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kContenders; ++i)
    threads.emplace_back([&, i] {
      auto p = Pool::Open(sut.name());
      ASSERT_TRUE(p.ok());
      auto t = (*p)->AcquireLeadership(refs[i], 10s);
      if (t.ok()) ++leaders;
      else if (t.status().code() == StatusCode::kAlreadyExists) ++refused;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(leaders.load(), 1);
  EXPECT_EQ(refused.load(), kContenders - 1);
  EXPECT_EQ(sut->Leader()->term, 1u);
}

// A leader stopped past its lease and continued after another took over:
// every change it tries is refused in the same hold of the lock that would
// have made it (assign, retry, dead-letter, aggregate, post, adopt), the
// pool is exactly as it was but for the refusals' records, and each refusal
// is recorded where an operator looks for conflicts.
TEST(LeadershipTest, ADeposedLeadersHandleChangesNothing) {
  ScopedPool sut("leadfence");
  const AgentRef a = *sut->RegisterAgent({"sup-a", {}, 0, AgentRole::kSupervisor});
  const AgentRef b = *sut->RegisterAgent({"sup-b", {}, 0, AgentRole::kSupervisor});
  const AgentRef w = *sut->RegisterAgent({"w", {}, 0, AgentRole::kWorker});
  auto opened = Pool::Open(sut.name());
  ASSERT_TRUE(opened.ok());
  Pool& old_leader = **opened;
  ASSERT_EQ(*old_leader.AcquireLeadership(a, 20ms), 1u);
  old_leader.FenceByLead(a, 1);
  // While it leads, its handle works as any other.
  TaskSpec spec;
  spec.entry = testing::MakeEntry("tasks");
  spec.assignee = a;
  const TaskId queued = *old_leader.PostTask(spec);
  const TaskId failed = *old_leader.PostTask(spec);
  ASSERT_TRUE(old_leader.Reassign(failed, w).ok());
  auto claim = sut->ClaimNext(w, 10s);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  ASSERT_EQ((*claim)->task.id, failed);
  ASSERT_TRUE(sut->Fail(failed, (*claim)->task.epoch, "boom", w).ok());
  const auto result = sut->Write(testing::MakeEntry("results"));
  ASSERT_TRUE(result.ok());

  std::this_thread::sleep_for(40ms);  // stopped past its lease
  ASSERT_EQ(*sut->AcquireLeadership(b, 10s), 2u);
  const PoolStats before = *sut->Stats();
  auto refused = [&](const Status& s, const char* what) {
    EXPECT_EQ(s.code(), StatusCode::kStaleTerm) << what << ": " << s.ToString();
    EXPECT_NE(s.message().find("term 1 is over (term 2 now, held by 'sup-b')"), std::string::npos)
        << s.message();
  };
  refused(old_leader.Reassign(queued, w), "assign");
  refused(old_leader.Retry(failed, a), "retry");
  refused(old_leader.DeadLetter(failed, "out of retries").status(), "dead-letter");
  NewEntry final_entry = testing::MakeEntry("results", {"final"});
  refused(old_leader.Write(final_entry).status(), "aggregate");
  refused(old_leader.MarkAggregated(*result), "mark aggregated");
  refused(old_leader.PostTask(spec).status(), "post");
  refused(old_leader.Deregister(b, a), "adopt the new leader's backlog");
  refused(old_leader.AcquireLeadership(a, 10s, 1).status(), "renew");
  refused(old_leader.GetTask(queued).status(), "read");

  const PoolStats after = *sut->Stats();
  constexpr uint64_t kRefusals = 9;
  EXPECT_EQ(after.lead_refused, kRefusals);
  EXPECT_EQ(after.tasks_by_state, before.tasks_by_state);
  EXPECT_EQ(after.entries, before.entries + kRefusals) << "one conflict record per refusal";
  EXPECT_EQ(sut->GetTask(queued)->state, TaskState::kPending);
  EXPECT_EQ(sut->GetTask(queued)->assignee, a) << "still in the deposed leader's backlog";
  EXPECT_EQ(sut->GetTask(failed)->state, TaskState::kFailed);
  Query q;
  q.segments = {"conflicts"};
  q.all_tags = {"stale-term"};
  const auto records = *sut->Find(q);
  ASSERT_EQ(records.size(), kRefusals);
  Query finals;
  finals.all_tags = {"final"};
  EXPECT_TRUE(sut->Find(finals)->empty());
  // The new leader adopts the backlog; the deposed one's handle stays refused.
  ASSERT_TRUE(sut->Deregister(a, b).ok());
  EXPECT_EQ(sut->GetTask(queued)->assignee, b);
  refused(old_leader.Retry(failed, a), "retry after adoption");
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate
