// End-to-end failure handling: poison tasks, stalled workers, backoff,
// circuit breaker, timeouts, deadlines and restart intensity.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

#include <atomic>
#include <future>
#include <random>
#include <set>
#include <regex>
#include <thread>

#include "group_fixture.h"
#include "slate/clock.h"
#include "slate/json_payload.h"
#include "slate/internal/layout.h"
#include "slate/process_setup.h"
#include "util/raw_view.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

using FaultsTest = GroupTest;

// A command that kills its own worker when the payload is "poison".
const char* kPoisonous = "read p; [ \"$p\" = poison ] && kill -9 $PPID; echo \"$p\"";

TEST_F(FaultsTest, PoisonTaskIsDeadLetteredAfterItsAttemptsAndOthersFlow) {
  std::vector<json> tasks;
  for (int i = 0; i < 15; ++i) tasks.push_back({{"payload", i == 7 ? "poison" : "t" + std::to_string(i)}});
  json out;
  const auto r = Launch({"--workers", "3", "--max-retries", "2", "--shell", "--exec", kPoisonous,
                         "--keep", Jsonl("poison.jsonl", tasks)},
                        &out);
  ASSERT_EQ(r.exit_code, 3) << r.err;
  {
    // The coordinator may not tick before the short run ends; what it must
    // never miss is in the pool: one "lost" record per attempt.
    auto kept = Pool::Open(pool, OpenMode::kReadOnly);
    ASSERT_TRUE(kept.ok());
    Query q;
    q.segments = {"errors"};
    q.all_tags = {"lost", "task:" + out["tasks"][7]["task"].dump()};
    EXPECT_EQ((*kept)->Find(q)->size(), 3u);
    kept->reset();
    ASSERT_TRUE(Pool::Remove(pool).ok());
  }
  for (int i = 0; i < 15; ++i) {
    const json& t = out["tasks"][i];
    if (i != 7) {
      EXPECT_EQ(t["status"], "done") << t.dump();
      EXPECT_EQ(t["result"], "t" + std::to_string(i));
      continue;
    }
    EXPECT_EQ(t["status"], "dead_lettered");
    EXPECT_EQ(t["attempts"], 3);
    ASSERT_EQ(t["failures"].size(), 3u) << t.dump();
    for (const auto& f : t["failures"]) EXPECT_TRUE(f.value("lost", false)) << f.dump();
  }
  EXPECT_EQ(out["summary"]["dead_lettered_tasks"][0]["index"], 7);
  EXPECT_NE(r.err.find("dead-lettered: task 7"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("restarting it"), std::string::npos) << r.err;
}

TEST_F(FaultsTest, RestartIntensityStopsTheGroupNamingTheMember) {
  std::vector<json> tasks(6, {{"payload", "poison"}});
  const auto r = Launch({"--workers", "1", "--max-restarts", "2", "--restart-window-s", "60",
                         "--max-retries", "10", "--shell", "--exec", kPoisonous,
                         Jsonl("allpoison.jsonl", tasks)});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("more than 2 restarts within 60 s, giving up on worker-1"),
            std::string::npos)
      << r.err;
}

// By default a member that keeps crashing is restarted later each time,
// reported crash-looping, and the healthy members finish the request.
TEST_F(FaultsTest, ACrashLoopingWorkerBacksOffWhileTheOthersFinishTheRequest) {
  std::vector<json> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back({{"payload", "t" + std::to_string(i)}});
  tasks.push_back({{"payload", "poison"}, {"requires", "bad"}, {"max_retries", 3}});
  json out;
  const auto r = Launch({"--workers", "2", "--worker-group", "1:bad", "--shell", "--exec",
                         kPoisonous, Jsonl("loop.jsonl", tasks)},
                        &out);
  ASSERT_EQ(r.exit_code, 3) << r.err;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out["tasks"][i]["status"], "done") << i;
  EXPECT_EQ(out["tasks"][10]["status"], "dead_lettered");
  EXPECT_EQ(out["tasks"][10]["attempts"], 4);
  EXPECT_NE(r.err.find("worker-3 (pid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("crash 2 in a row, restarting it in 0.1 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("crash 3 in a row, restarting it in 0.2 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("worker-3 is crash-looping"), std::string::npos) << r.err;
  const json& looping = out["summary"]["crash_looping"];
  ASSERT_EQ(looping.size(), 1u) << out["summary"].dump();
  EXPECT_EQ(looping[0]["member"], "worker-3");
  EXPECT_GE(looping[0]["crashes_in_a_row"].get<int>(), 3);
}

TEST_F(FaultsTest, TheGroupStopsOnlyWhenEveryWorkerKeepsCrashing) {
  std::vector<json> tasks(4, {{"payload", "poison"}});
  const auto r = Launch({"--workers", "2", "--restart-delay-ms", "1", "--max-retries", "50",
                         "--shell", "--exec", kPoisonous, Jsonl("hopeless.jsonl", tasks)});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("every worker has crashed 8 or more times in a row"), std::string::npos)
      << r.err;
}

// A command that fails every task the same way, but for the payload "ok".
const char* kBroken = "read p; [ \"$p\" = ok ] && echo ok && exit 0; echo broken >&2; exit 3";

// Every worker fails the request's tasks the same way: it stops at once
// with that error instead of retrying each task through the breakers'
// cool-downs.
TEST_F(FaultsTest, ARequestEveryWorkerFailsTheSameWayStopsWithThatError) {
  json out;
  const auto r = Launch({"--workers", "2", "--shell", "--exec", kBroken,
                         Jsonl("broken.jsonl", std::vector<json>(20, {{"payload", "x"}}))},
                        &out);
  ASSERT_EQ(r.exit_code, 5) << r.err;
  const json& s = out["summary"];
  EXPECT_EQ(s["done"], 0);
  EXPECT_EQ(s["dead_lettered"], 1);
  EXPECT_EQ(s["cancelled"], 19);
  const std::string why = s["failed_by"]["error"];
  EXPECT_NE(why.find("every worker (2) failed the request's tasks the same way"),
            std::string::npos) << why;
  EXPECT_NE(why.find("exit code 3; stderr: broken"), std::string::npos) << why;
  EXPECT_NE(r.err.find("slate: the request failed at task"), std::string::npos) << r.err;
  int attempts = 0;
  for (const auto& t : out["tasks"]) attempts += t["attempts"].get<int>();
  EXPECT_LE(attempts, 10) << "at most what two workers take before their breakers open";
}

// A supervisor killed after it decided is replaced by one that finishes
// stopping the request from its record: the same failure, nothing left.
TEST_F(FaultsTest, ASupervisorKilledAsItFailsARequestFastIsReplacedAndFinishesIt) {
  setenv("SLATE_CRASH_POINT", "supervisor.fail_request", 1);
  json out;
  const auto r = Launch({"--workers", "2", "--lead-lease-ms", "500", "--shell", "--exec", kBroken,
                         Jsonl("broken.jsonl", std::vector<json>(8, {{"payload", "x"}}))},
                        &out);
  unsetenv("SLATE_CRASH_POINT");
  ASSERT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("supervisor (pid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
  const json& s = out["summary"];
  EXPECT_EQ(s["dead_lettered"], 1);
  EXPECT_EQ(s["cancelled"], 7);
  EXPECT_NE(s["failed_by"]["error"].get<std::string>().find("every worker (2) failed"),
            std::string::npos) << s.dump();
  for (const auto& t : out["tasks"]) {
    if (t["status"] != "cancelled") continue;
    EXPECT_NE(t["error"].get<std::string>().find("the request failed fast"), std::string::npos)
        << t.dump();
  }
}

// A success shows the command works: the failures are the tasks' own.
TEST_F(FaultsTest, ARequestWithASuccessIsNotFailedFast) {
  std::vector<json> tasks(6, {{"payload", "x"}});
  tasks[0]["payload"] = "ok";
  json out;
  const auto r = Launch({"--workers", "2", "--max-retries", "0", "--shell", "--exec", kBroken,
                         Jsonl("mixed.jsonl", tasks)},
                        &out);
  ASSERT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(out["summary"]["done"], 1);
  EXPECT_EQ(out["summary"]["dead_lettered"], 5);
  EXPECT_FALSE(out["summary"].contains("failed_by")) << out["summary"].dump();
}

// --no-fail-fast retries each task to the end; workers the breaker keeps
// out of rotation meanwhile are resting, not missing: no task waits out
// --no-worker-timeout-ms as if no worker could take it.
TEST_F(FaultsTest, WithoutFailFastEachTaskRunsOutItsRetriesOnRestingWorkers) {
  json out;
  const auto r = Launch({"--workers", "2", "--max-retries", "1", "--no-fail-fast",
                         "--no-worker-timeout-ms", "300",
                         "--supervisor-arg=--breaker-cooldown-ms=1000", "--shell", "--exec",
                         kBroken, Jsonl("broken.jsonl", std::vector<json>(6, {{"payload", "x"}}))},
                        &out);
  ASSERT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("out of rotation for 1000 ms"), std::string::npos) << r.err;
  EXPECT_FALSE(out["summary"].contains("failed_by"));
  for (const auto& t : out["tasks"]) {
    EXPECT_EQ(t["status"], "dead_lettered");
    EXPECT_EQ(t["attempts"], 2) << t.dump();
    EXPECT_EQ(t["error"], "failed 2 attempt(s); last error: exit code 3; stderr: broken");
  }
}

TEST_F(FaultsTest, TaskPastItsTimeoutIsKilledAndCountedAsAFailedAttempt) {
  const auto start = std::chrono::steady_clock::now();
  json out;
  const auto r = Launch({"--workers", "1", "--handler", "sleep",
                         Jsonl("slow.jsonl", {{{"payload", {{"ms", 20000}}},
                                               {"timeout_ms", 200},
                                               {"max_retries", 1}}})},
                        &out);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  const json& t = out["tasks"][0];
  EXPECT_EQ(t["attempts"], 2);
  ASSERT_EQ(t["failures"].size(), 2u);
  EXPECT_NE(t["failures"][0]["error"].get<std::string>().find("timed out after 200 ms"),
            std::string::npos);
}

TEST_F(FaultsTest, TaskPastItsDeadlineFailsWithoutRunning) {
  json out;
  const auto r = Launch({"--workers", "1", Jsonl("late.jsonl", {{{"payload", 1}, {"deadline", 1000}},
                                                                {{"payload", 2}}})},
                        &out);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(out["tasks"][0]["status"], "dead_lettered");
  EXPECT_EQ(out["tasks"][0]["attempts"], 0);
  EXPECT_NE(out["tasks"][0]["error"].get<std::string>().find("deadline exceeded"),
            std::string::npos);
  EXPECT_EQ(out["tasks"][1]["status"], "done");
}

// Gaps between one attempt's failure and the next attempt's start.
std::vector<double> RetryGapsMs(const json& task) {
  std::vector<double> gaps;
  const json& f = task["failures"];
  for (size_t i = 1; i < f.size(); ++i)
    gaps.push_back((f[i]["started_ns"].get<double>() - f[i - 1]["ended_ns"].get<double>()) / 1e6);
  return gaps;
}

TEST_F(FaultsTest, BackoffDoublesWithJitterAndIsCapped) {
  const auto task = Jsonl("flaky.jsonl", {{{"payload", {{"times", 4}}}, {"max_retries", 4}}});
  json grow;
  // One worker failing on purpose would trip the circuit breaker: off here.
  auto r = Launch({"--workers", "1", "--handler", "fail", "--supervisor-arg=--backoff-base-ms=100",
                   "--supervisor-arg=--backoff-max-ms=100000",
                   "--supervisor-arg=--breaker-failures=0", task},
                  &grow);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(grow["tasks"][0]["attempts"], 5);
  const auto g = RetryGapsMs(grow["tasks"][0]);
  ASSERT_EQ(g.size(), 3u);
  // Delays are 100*2^(n-1) ms times a jitter in [0.5, 1]: the third is at
  // least twice the first, whatever the jitter; compare as ratios.
  EXPECT_GE(g[2] / g[0], 1.8) << g[0] << " " << g[1] << " " << g[2];
  EXPECT_GE(g[0], 40.0);
  json capped;
  r = Launch({"--workers", "1", "--handler", "fail", "--supervisor-arg=--backoff-base-ms=100",
              "--supervisor-arg=--backoff-max-ms=120", "--supervisor-arg=--breaker-failures=0",
              task},
             &capped);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto c = RetryGapsMs(capped["tasks"][0]);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_LE(c[2] / c[0], 3.0) << c[0] << " " << c[2];  // uncapped it would be 2-8
  EXPECT_LT(c[2], g[2]);
}

TEST_F(FaultsTest, StalledWorkerLosesItsTaskAndItsLateResultIsRefusedAndFlaggedOnce) {
  auto created = Pool::Create({.name = pool});
  ASSERT_TRUE(created.ok());
  Pool& p = **created;
  const pid_t coordinator =
      StartMember(pool, {"slate-coordinator", "--interval-ms", "100", "--hung-after-ms", "800"});
  const pid_t a = StartMember(pool, {"slate-worker", "--name", "stalled", "--handler", "sleep",
                                     "--lease-ms", "600", "--heartbeat-ms", "50"});
  // Only the stalled worker exists when the task is delegated.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (p.ListAgents(10s)->size() < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  json out;
  std::thread supervisor([&] {
    const auto r = RunCommand({"slate-supervisor", "--pool", pool, "--hung-after-ms", "800",
                               "--max-retries", "3",
                               Jsonl("stall.jsonl", {{{"payload", {{"ms", 1500}}}}})});
    out = json::parse(r.out, nullptr, false);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  });
  while (p.Stats()->tasks_by_state[static_cast<int>(TaskState::kRunning)] == 0 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  kill(a, SIGSTOP);  // mid-task, holding a lease
  const pid_t b = StartMember(pool, {"slate-worker", "--name", "healthy", "--handler", "sleep"});
  std::this_thread::sleep_for(2500ms);  // hung and reassigned; b runs it
  kill(a, SIGCONT);                     // a wakes up and tries to finish
  supervisor.join();
  ASSERT_FALSE(out.is_discarded());
  const json& t = out["tasks"][0];
  EXPECT_EQ(t["status"], "done");
  EXPECT_EQ(t["worker"], "healthy");
  EXPECT_EQ(t["attempts"], 2);
  std::this_thread::sleep_for(1500ms);  // the late refusal reaches the coordinator
  Query q;
  q.segments = {"conflicts"};
  q.all_tags = {"duplicate_assignment"};
  const auto flags = *p.Find(q);
  ASSERT_EQ(flags.size(), 1u);
  q.all_tags = {"hung_worker", "agent:stalled"};
  EXPECT_EQ(p.Find(q)->size(), 1u) << "the coordinator flags the hung worker once";
  q.all_tags = {"lost_attempt", "agent:stalled"};
  EXPECT_EQ(p.Find(q)->size(), 1u) << "and the attempt it lost";
  const json flag = *PayloadToJson(flags[0].payload);
  EXPECT_EQ(flag["workers"], (json{"stalled", "healthy"})) << flag.dump();
  for (pid_t pid : {coordinator, a, b}) kill(pid, SIGTERM);
  for (pid_t pid : {coordinator, a, b}) EXPECT_EQ(WaitCommand(pid, 10000), 0);
  EXPECT_TRUE(p.Check().empty());
  created->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
}

// A preempted holder's late outcome is refused like any stale one, but the
// coordinator does not call it a duplicate assignment; a task taken from a
// hung holder still is one.
TEST_F(FaultsTest, APreemptedHoldersLateOutcomeIsNoDuplicateAssignment) {
  auto created = Pool::Create({.name = pool});
  ASSERT_TRUE(created.ok());
  Pool& p = **created;
  const AgentRef sup = *p.RegisterAgent({"sup", {}, 0, AgentRole::kSupervisor});
  const AgentRef w1 = *p.RegisterAgent({"w1", {}, 0});
  const AgentRef w2 = *p.RegisterAgent({"w2", {}, 0});
  auto post = [&](AgentRef to) {
    TaskSpec t;
    t.entry.author = "sup";
    t.assignee = to;
    return *p.PostTask(t);
  };
  const TaskId preempted = post(w1);
  const uint32_t e1 = (*p.ClaimNext(w1, 30s))->task.epoch;
  ASSERT_TRUE(p.Preempt(preempted, sup, "urgent work").ok());
  EXPECT_EQ(p.Fail(preempted, e1, "cancelled", w1).code(), StatusCode::kStaleEpoch);
  const TaskId lost = post(w2);
  const uint32_t e2 = (*p.ClaimNext(w2, 30s))->task.epoch;
  ASSERT_TRUE(p.Reassign(lost, sup, "w2 hung").ok());
  EXPECT_EQ(p.Complete(lost, e2, {}, w2).status().code(), StatusCode::kStaleEpoch);
  const pid_t coordinator = StartMember(pool, {"slate-coordinator", "--interval-ms", "50"});
  Query q;
  q.segments = {"conflicts"};
  q.all_tags = {"duplicate_assignment"};
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (p.Find(q)->empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(300ms);  // several more ticks
  const auto flags = *p.Find(q);
  kill(coordinator, SIGTERM);
  EXPECT_EQ(WaitCommand(coordinator, 10000), 0);
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0].tags, (std::vector<std::string>{"duplicate_assignment",
                                                      "task:" + std::to_string(lost)}));
  created->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
}

TEST_F(FaultsTest, CircuitBreakerTakesAFailingWorkerOutThenOnProbation) {
  auto created = Pool::Create({.name = pool});
  ASSERT_TRUE(created.ok());
  const pid_t bad = StartMember(pool, {"slate-worker", "--name", "bad", "--handler", "fail"});
  const pid_t good = StartMember(pool, {"slate-worker", "--name", "good", "--handler", "sleep"});
  std::vector<json> tasks(24, {{"payload", {{"ms", 60}, {"message", "bad worker"}}}});
  const auto r = RunCommand({"slate-supervisor", "--pool", pool, "--log-level", "info",
                             "--wait-workers", "2", "--max-retries", "8",
                             "--breaker-failures", "3", "--breaker-cooldown-ms", "300",
                             "--backoff-base-ms", "10", "--backoff-max-ms", "20",
                             Jsonl("breaker.jsonl", tasks)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Opened at its 3rd failure in a row, or a little later: the failures
  // of the tasks it already held can land before the supervisor looks.
  std::smatch opened;
  ASSERT_TRUE(std::regex_search(
      r.err, opened, std::regex("worker 'bad' failed ([0-9]+) times in a row; out of rotation for 300 ms")))
      << r.err;
  EXPECT_GE(std::stoi(opened[1]), 3);
  EXPECT_LE(std::stoi(opened[1]), 5) << "it held at most 2 more tasks (max-pending)";
  EXPECT_NE(r.err.find("worker 'bad' back on probation"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("worker 'bad' failed on probation"), std::string::npos) << r.err;
  const json out = json::parse(r.out, nullptr, false);
  int bad_failures = 0;
  for (const auto& t : out["tasks"]) {
    EXPECT_EQ(t["worker"], "good");
    for (const auto& f : t.value("failures", json::array())) bad_failures += f["worker"] == "bad";
  }
  // Without the breaker, round-robin would send "bad" about half of 24+.
  EXPECT_LT(bad_failures, 10) << bad_failures;
  for (pid_t pid : {bad, good}) kill(pid, SIGTERM);
  for (pid_t pid : {bad, good}) EXPECT_EQ(WaitCommand(pid, 10000), 0);
  created->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
}

// A peer shrinks the region under a running group: members that touch the
// lost part stop with a clear line (not a silent SIGBUS), and slate-launch
// stops the whole group with kExitRegionLost instead of restarting members.
TEST_F(FaultsTest, ShrunkRegionStopsTheGroupWithAClearError) {
  std::vector<json> tasks(40, {{"payload", 50}});
  CommandResult r;
  std::thread run([&] {
    r = Launch({"--workers", "2", "--handler", "sleep", Jsonl("slow.jsonl", tasks)});
  });
  for (int i = 0; i < 200 && !PoolExists(pool); ++i) std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(300ms);  // members attached and working
  const int fd = shm_open(("/" + ShmNameFor(pool)).c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  close(fd);
  run.join();
  EXPECT_EQ(r.exit_code, kExitRegionLost) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("signal 7"), std::string::npos) << r.err;  // SIGBUS
}

// A peer scribbles random bytes over slot headers while a group runs, one of
// them over a queued task for certain. The supervisor and coordinator keep
// working, dump and monitor keep reading, and the run ends with every task
// accounted for: done, or reported lost because the pool quarantined it.
TEST_F(FaultsTest, SlotScribblerLosesOnlyTheEntriesItHits) {
  constexpr int kTasks = 60;
  // Each task waits for the scribbler to be done, so that every observer
  // round (three processes, seconds under a sanitizer on a busy host)
  // falls inside the run, however slow the host.
  const std::string done_flag = TempPath("scribbler-done");
  std::remove(done_flag.c_str());
  const std::string wait_then_echo =
      "while [ ! -e " + done_flag + " ]; do sleep 0.05; done; read p; echo \"$p\"";
  std::vector<json> tasks(kTasks, {{"payload", 320}});
  CommandResult r;
  json out;
  std::atomic<bool> running{true};
  std::thread run([&] {
    r = Launch({"--workers", "3", "--shell", "--exec", wait_then_echo,
                Jsonl("scribbled.jsonl", tasks)},
               &out);
    running = false;
  });
  // Lets the tasks finish and waits for the run; on every way out, failed
  // assertions included.
  struct Release {
    std::thread& run;
    void operator()() {
      WriteTempFile("scribbler-done", "");
      if (run.joinable()) run.join();
    }
    ~Release() { (*this)(); }
  } release{run};
  for (int i = 0; i < 500 && !PoolExists(pool); ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(PoolExists(pool));
  int scribbles = 0, observed = 0;
  std::vector<std::string> observer_failures;
  {
    const RawView view(pool);
    const internal::Region& reg = view.r();
    // The newest pending task (claimed last) has its id scribbled first,
    // once the request is posted (sanitizer builds, and a machine busy
    // with other tests, start the group slowly: up to 30 s).
    uint32_t victim = internal::kNil;
    for (int wait = 0; wait < 1500 && victim == internal::kNil; ++wait) {
      std::this_thread::sleep_for(20ms);
      uint64_t pending = 0;
      for (uint32_t i = 0; i < reg.geo().slot_capacity; ++i) {
        const internal::Slot& s = reg.slot(i);
        if (s.state != 1 || s.segment != 0 || s.kind.task.state != 1) continue;
        ++pending;
        if (victim == internal::kNil || s.id > reg.slot(victim).id) victim = i;
      }
      if (pending < kTasks / 2) victim = internal::kNil;  // still posting
    }
    ASSERT_NE(victim, internal::kNil) << "no task left pending to scribble on";
    reinterpret_cast<uint8_t*>(&reg.slot(victim))[offsetof(internal::Slot, id)] ^= 0x5A;
    ++scribbles;
    std::mt19937 rng(7);
    while (running.load() && scribbles < 60) {
      auto* bytes = reinterpret_cast<uint8_t*>(&reg.slot(static_cast<uint32_t>(rng() % 128)));
      const auto off = static_cast<uint32_t>(rng() % (sizeof(internal::Slot) - 8));
      for (uint32_t k = 0; k < 8; ++k) bytes[off + k] = static_cast<uint8_t>(rng());
      std::this_thread::sleep_for(10ms);
      if (++scribbles % 10 != 0) continue;
      // Observers, read-only: each must answer, whatever it finds. The
      // three run at once, so that a round is as slow as the slowest.
      std::vector<std::future<std::pair<std::string, CommandResult>>> round;
      for (const std::vector<std::string>& cmd :
           {std::vector<std::string>{"slate-dump", "--pool", pool, "-n", "0"},
            std::vector<std::string>{"slate-dump", "--pool", pool, "--stats"},
            std::vector<std::string>{"slate-monitor", "--pool", pool, "--json"}})
        round.push_back(std::async(std::launch::async,
                                   [cmd] { return std::pair(cmd[0], RunCommand(cmd, 20000)); }));
      for (auto& f : round) {
        const auto [program, o] = f.get();
        if (o.exit_code == 0) ++observed;
        else if (PoolExists(pool)) observer_failures.push_back(program + ": " + o.err);
      }
    }
  }
  release();
  std::remove(done_flag.c_str());
  EXPECT_TRUE(observer_failures.empty()) << observer_failures.front();
  EXPECT_GT(observed, 3);
  ASSERT_EQ(r.exit_code, 3) << r.err;  // partial: something was lost
  ASSERT_TRUE(out.is_object()) << r.out;
  std::set<int> indices;
  int lost = 0;
  for (const auto& t : out["tasks"]) {
    indices.insert(t["index"].get<int>());
    const std::string status = t["status"];
    if (status == "lost") {
      ++lost;
      EXPECT_NE(t["error"].get<std::string>().find("quarantined"), std::string::npos);
    } else {
      EXPECT_TRUE(status == "done" || status == "dead_lettered") << t.dump();
    }
  }
  EXPECT_EQ(indices.size(), static_cast<size_t>(kTasks));
  EXPECT_GE(lost, 1);
  EXPECT_LE(lost, scribbles);  // one slot per scribble: at most one task each
  EXPECT_EQ(out["summary"]["lost"], lost);
  EXPECT_NE(r.err.find("quarantined slot"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("slate: lost: task"), std::string::npos) << r.err;
  // No member crashed or was restarted: supervisor, coordinator, workers.
  EXPECT_EQ(r.err.find("restarting"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("signal"), std::string::npos) << r.err;
  std::printf("scribbles %d, observer runs ok %d, tasks lost %d of %d\n", scribbles, observed,
              lost, kTasks);
}

}  // namespace
}  // namespace slate::testing
