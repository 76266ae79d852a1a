// Redundant supervisors: one leads under a lease with a term, the others
// stand by (--standby) and take over; a deposed leader changes nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <thread>

#include "group_fixture.h"
#include "run_command.h"
#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

uint64_t Done(Pool& pool) {
  return pool.Stats()->tasks_by_state[static_cast<int>(TaskState::kDone)];
}

class StandbyTest : public GroupTest {
 protected:
  // The test's pool, with n workers of the built-in sleep handler.
  Pool& MakeGroup(int workers) {
    auto created = Pool::Create({.name = pool});
    if (!created.ok()) throw std::runtime_error(created.status().ToString());
    pool_ = std::move(*created);
    workers_ = StartSleepWorkers(pool, workers);
    return *pool_;
  }
  // The workers stopped, the pool checked and removed.
  void EndGroup() {
    for (pid_t w : workers_) kill(w, SIGTERM);
    for (pid_t w : workers_) EXPECT_EQ(WaitCommand(w, 10000), 0);
    workers_.clear();
    EXPECT_TRUE(pool_->Check().empty());
    pool_.reset();
    EXPECT_TRUE(Pool::Remove(pool).ok());
  }
  // Supervisors run in threads so that their output is kept.
  void StartSupervisors(int n, const std::vector<std::string>& args) {
    results.resize(n);
    for (int i = 0; i < n; ++i)
      threads.emplace_back([this, i, args] {
        std::vector<std::string> argv = {"slate-supervisor", "--pool", pool, "--standby",
                                         "--log-level", "info"};
        argv.insert(argv.end(), args.begin(), args.end());
        results[i] = RunCommand(argv, 60000);
      });
  }
  void JoinSupervisors() {
    for (auto& t : threads) t.join();
    threads.clear();
  }
  void TearDown() override {
    for (pid_t p : ProcessesMentioning(pool)) kill(p, SIGCONT);
    for (pid_t p : ProcessesMentioning(pool)) kill(p, SIGTERM);
    JoinSupervisors();
    for (pid_t w : workers_) WaitCommand(w, 10000);
    pool_.reset();
    GroupTest::TearDown();
  }
  std::vector<CommandResult> results;
  std::vector<std::thread> threads;

 private:
  std::unique_ptr<Pool> pool_;
  std::vector<pid_t> workers_;
};

// Started at the same moment, three standbys: one leads and posts the
// request, once; the others wait, and when the leader leaves after the
// end, each in turn takes the lead, finds the request finished and stops.
TEST_F(StandbyTest, StartedAtOnceOneLeadsAndTheRequestRunsOnce) {
  Pool& p = MakeGroup(2);
  const std::string input = Jsonl("once.jsonl", std::vector<json>(6, {{"payload", {{"ms", 100}}}}));
  StartSupervisors(3, {"--wait-workers", "2", input});
  JoinSupervisors();
  int reported = 0, stood_by = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json out = json::parse(r.out, nullptr, false);
    if (!out.is_discarded()) {
      ++reported;
      EXPECT_EQ(out["summary"]["done"], 6);
    }
    if (r.err.find("standing by: 'supervisor-") != std::string::npos) {
      ++stood_by;
      EXPECT_NE(r.err.find("nothing to resume"), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(reported, 1) << "one supervisor ran the request";
  EXPECT_EQ(stood_by, 2);
  EXPECT_EQ(p.Stats()->tasks_by_state[static_cast<int>(TaskState::kDone)], 6u)
      << "posted once";
  EXPECT_EQ(ResultsPerTask(p).size(), 6u);
  EXPECT_EQ(p.Stats()->lead_refused, 0u);
  EndGroup();
}

// The leader killed outright: its standby learns of the death from a pidfd,
// not from the lease (5 s here), adopts the backlog and finishes the
// request; no task runs twice, since only the supervisor died.
TEST_F(StandbyTest, KilledLeadersStandbyTakesOverAtOnce) {
  Pool& p = MakeGroup(2);
  const std::string input =
      Jsonl("killed.jsonl", std::vector<json>(12, {{"payload", {{"ms", 150}}}}));
  StartSupervisors(2, {"--wait-workers", "2", "--max-pending", "1", "--lead-lease-ms", "5000",
                       input});
  ASSERT_TRUE(Eventually([&] { return Done(p) >= 6; }, 20s));
  const LeaderInfo leader = *p.Leader();
  ASSERT_EQ(leader.term, 1u);
  kill(leader.pid, SIGKILL);
  const auto killed_at = Clock::now();
  const int64_t killed_at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  ASSERT_TRUE(Eventually([&] { return p.Leader()->term == 2; }, 10s));
  const auto takeover = Clock::now() - killed_at;
  EXPECT_LT(takeover, 1s) << "a death is seen at once, not at the lease's end";
  EXPECT_TRUE(p.Leader()->alive);
  JoinSupervisors();
  Query request;
  request.segments = {"requests"};
  const auto records = *p.Find(request);
  ASSERT_EQ(records.size(), 1u);
  const double whole_ms =
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          records[0].created_ns) /
      1e6;
  // The first leader's part: three rounds of 150 ms at least.
  const double first_ms = static_cast<double>(killed_at_ns - records[0].created_ns) / 1e6;
  int reported = 0;
  for (const auto& r : results) {
    if (r.exit_code == 128 + SIGKILL) continue;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("(took over)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("adopting the backlog of supervisor"), std::string::npos) << r.err;
    const json out = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(out.is_discarded()) << r.out;
    ++reported;
    ASSERT_EQ(out["tasks"].size(), 12u);
    // The request's whole time, from its record's creation, its first
    // leader's part included: it falls short of the time until both
    // supervisors exited by their exit alone (slow under a sanitizer), far
    // less than that part.
    EXPECT_GT(out["summary"]["wall_ms"].get<double>(), whole_ms - first_ms / 2)
        << "only the second leader's time was counted (first leader's part " << first_ms
        << " ms)";
    for (const auto& t : out["tasks"]) {
      EXPECT_EQ(t["status"], "done");
      EXPECT_EQ(t["attempts"], 1) << "no task runs twice when only the supervisor dies";
    }
  }
  EXPECT_EQ(reported, 1);
  EndGroup();
}

// A standby that dies leaves its row to the leader, which clears it: a
// group whose standbys keep dying does not fill the agent table.
TEST_F(StandbyTest, ADeadStandbyIsClearedByTheLeader) {
  Pool& p = MakeGroup(1);
  const std::string input =
      Jsonl("standby.jsonl", std::vector<json>(20, {{"payload", {{"ms", 100}}}}));
  StartSupervisors(2, {"--wait-workers", "1", input});
  auto supervisors = [&] {
    int n = 0;
    for (const AgentInfo& a : *p.ListAgents(10s)) n += a.role == AgentRole::kSupervisor;
    return n;
  };
  ASSERT_TRUE(Eventually([&] { return supervisors() == 2 && Done(p) >= 1; }, 20s));
  const LeaderInfo leader = *p.Leader();
  pid_t standby = 0;
  for (const AgentInfo& a : *p.ListAgents(10s))
    if (a.role == AgentRole::kSupervisor && a.ref != leader.holder) standby = a.pid;
  ASSERT_GT(standby, 0);
  kill(standby, SIGKILL);
  EXPECT_TRUE(Eventually([&] { return supervisors() == 1; }, 5s)) << "the dead standby's row stays";
  EXPECT_EQ(p.Leader()->term, 1u) << "the leader did not change";
  JoinSupervisors();
  EndGroup();
}

// Whether pid is stopped (state T in /proc/<pid>/stat).
bool IsStopped(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'T';
}

class StoppedLeaderTest : public StandbyTest,
                          public ::testing::WithParamInterface<const char*> {};

// The leader stops itself (SIGSTOP) just before it acts, at the crash
// point named by the parameter: assigning a task, retrying one,
// dead-lettering one, aggregating the request. It stays stopped past its
// lease and the test takes the lead (term 2) and holds it, doing nothing.
// Continued, the old leader goes on with the decision it had made: every
// change it tries is refused, and it stops without reporting anything.
// Nothing a supervisor changes has moved: its backlog is where it was, the
// failed tasks are neither retried nor dead-lettered, no final entry. A
// standby then finishes the request whole.
TEST_P(StoppedLeaderTest, ContinuedPastItsLeaseItChangesNothing) {
  Pool& p = MakeGroup(2);
  std::vector<json> tasks(8, {{"payload", {{"ms", 100}}}});
  tasks.insert(tasks.begin() + 2, 2, {{"payload", "no such duration"}});  // fail, retry, fail
  const std::string input = Jsonl("stopped.jsonl", tasks);
  const std::vector<std::string> args = {"--wait-workers", "2", "--max-pending", "1",
                                         "--max-retries", "1", "--backoff-base-ms", "50",
                                         "--lead-lease-ms", "300", input};
  results.resize(2);
  threads.emplace_back([&] {
    std::vector<std::string> argv = {"/usr/bin/env",
                                     std::string("SLATE_CRASH_POINT=") + GetParam() + ":stop",
                                     BinDir() + "/slate-supervisor", "--pool", pool,
                                     "--standby", "--log-level", "info"};
    argv.insert(argv.end(), args.begin(), args.end());
    results[0] = RunCommand(argv, 60000);
  });
  ASSERT_TRUE(Eventually([&] { return p.Leader()->term == 1; }, 10s));
  const LeaderInfo old_leader = *p.Leader();
  ASSERT_TRUE(Eventually([&] { return IsStopped(old_leader.pid); }, 20s)) << GetParam();
  const AgentRef usurper = *p.RegisterAgent({"usurper", {}, 0, AgentRole::kSupervisor});
  ASSERT_TRUE(Eventually([&] { return p.AcquireLeadership(usurper, 60s).ok(); }, 10s));
  ASSERT_EQ(p.Leader()->term, 2u);

  Query task_query;
  task_query.segments = {"tasks"};
  task_query.limit = 0;
  task_query.with_payload = false;
  std::vector<TaskId> ids;
  for (const Entry& e : *p.Find(task_query)) ids.push_back(e.id);
  ASSERT_EQ(ids.size(), tasks.size());
  const std::vector<TaskInfo> before = *p.GetTasks(ids);
  kill(old_leader.pid, SIGCONT);
  JoinSupervisors();
  EXPECT_EQ(results[0].exit_code, 1) << results[0].err;
  EXPECT_NE(results[0].err.find("lost the lead: term 1 is over (term 2 now, held by 'usurper')"),
            std::string::npos)
      << results[0].err;
  EXPECT_TRUE(results[0].out.empty()) << "a deposed leader reports nothing: " << results[0].out;
  EXPECT_GE(p.Stats()->lead_refused, 1u);
  Query refusals;
  refusals.segments = {"conflicts"};
  refusals.all_tags = {"stale-term"};
  EXPECT_EQ(p.Find(refusals)->size(), p.Stats()->lead_refused);

  const std::vector<TaskInfo> after = *p.GetTasks(ids);
  ASSERT_EQ(after.size(), before.size());
  int backlog = 0, failed = 0, final = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    const TaskInfo& b = before[i];
    const TaskInfo& a = after[i];
    if (b.state == TaskState::kPending && b.assignee == old_leader.holder) {
      ++backlog;
      EXPECT_EQ(a.state, TaskState::kPending) << "task " << a.id << " was assigned";
      EXPECT_EQ(a.assignee, old_leader.holder) << "task " << a.id << " was assigned";
    } else if (b.state == TaskState::kFailed) {
      ++failed;
      EXPECT_EQ(a.state, TaskState::kFailed) << "task " << a.id << " was retried or ended";
    } else {
      final += IsFinal(b.state);
      EXPECT_EQ(a.attempts, b.attempts) << "task " << a.id << " ran again";
    }
  }
  // What it was about to do: hand out its backlog, retry or dead-letter a
  // failed task, or aggregate a request whose every task is final.
  EXPECT_TRUE(backlog + failed > 0 || final == static_cast<int>(before.size())) << GetParam();
  Query finals;
  finals.all_tags = {"final"};
  EXPECT_TRUE(p.Find(finals)->empty()) << "nothing aggregated";

  // A standby finishes the request, from the pool as it was left.
  ASSERT_TRUE(p.Deregister(usurper).ok());
  threads.emplace_back([&] {
    std::vector<std::string> argv = {"slate-supervisor", "--pool", pool, "--standby",
                                     "--log-level", "info"};
    argv.insert(argv.end(), args.begin(), args.end());
    results[1] = RunCommand(argv, 60000);
  });
  JoinSupervisors();
  EXPECT_EQ(results[1].exit_code, 3) << "two tasks dead-lettered: " << results[1].err;
  const json out = json::parse(results[1].out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << results[1].out;
  EXPECT_EQ(out["summary"]["done"], 8);
  EXPECT_EQ(out["summary"]["dead_lettered"], 2);
  EXPECT_EQ(out["summary"]["lost"], 0);
  for (const auto& [task, results_of_it] : ResultsPerTask(p)) EXPECT_EQ(results_of_it, 1);
  EndGroup();
}

INSTANTIATE_TEST_SUITE_P(Decisions, StoppedLeaderTest,
                         ::testing::Values("supervisor.assign:2", "supervisor.retry:0",
                                           "supervisor.dead_letter:0", "supervisor.report:0"));

// slate-launch run --supervisors 3: a standby stopped, then the leader
// killed mid-run; a standby finishes the request without waiting for the
// launcher's restart, and the launcher restarts both as standbys.
TEST_F(GroupTest, LaunchedWithThreeSupervisorsTheRunOutlivesItsLeader) {
  const std::string input =
      Jsonl("launch.jsonl", std::vector<json>(16, {{"payload", {{"ms", 100}}}}));
  std::thread killer([&] {
    std::unique_ptr<Pool> p;
    (void)Eventually(
        [&] {
          auto opened = Pool::Open(pool);
          if (opened.ok()) p = std::move(*opened);
          return p != nullptr;
        },
        20s);
    if (p == nullptr) return;
    // A standby stopped by a user does not end the run: it is restarted.
    // (A slow machine may post tasks before both standbys have registered.)
    std::optional<pid_t> standby;
    if (!Eventually(
            [&] {
              if (Done(*p) < 2) return false;
              auto leader = p->Leader();
              auto agents = p->ListAgents(10s);
              if (!leader.ok() || !agents.ok()) return false;
              int supervisors = 0;
              for (const AgentInfo& a : *agents) {
                if (a.role != AgentRole::kSupervisor || a.liveness == Liveness::kGone) continue;
                ++supervisors;
                if (a.ref != leader->holder) standby = a.pid;
              }
              return supervisors == 3;
            },
            20s))
      return;
    kill(*standby, SIGTERM);
    if (!Eventually([&] { return Done(*p) >= 4; }, 20s)) return;
    kill(p->Leader()->pid, SIGKILL);
  });
  json out;
  const auto r = Launch({"--workers", "2", "--handler", "sleep", "--supervisors", "3",
                         "--max-pending", "1", "--log-level", "info", input},
                        &out);
  killer.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("(took over)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("supervisor-"), std::string::npos);
  EXPECT_NE(r.err.find("killed by signal 9; restarting it"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exit 1; restarting it"), std::string::npos) << "the stopped standby: "
                                                                       << r.err;
  ASSERT_EQ(out["tasks"].size(), 16u);
  for (const auto& t : out["tasks"]) EXPECT_EQ(t["status"], "done");

  const auto bad = Launch({"--supervisors", "4", input});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("supervisors"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace slate::testing
