// slate-launch as a service: start, submit, status, scale, logs, stop; and
// two groups side by side.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "e2e/group_fixture.h"
#include "slate/json_payload.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

class LifecycleTest : public GroupTest {
 protected:
  CommandResult Cmd(const std::string& pool_name, std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--pool", pool_name});
    args.insert(args.begin(), "slate-launch");
    return RunCommand(args, 60000);
  }
  int AliveWorkers(const std::string& pool_name) {
    auto p = Pool::Open(pool_name, OpenMode::kReadOnly);
    if (!p.ok()) return -1;
    int n = 0;
    for (const auto& a : *(*p)->ListAgents(5s))
      n += a.role == AgentRole::kWorker && a.liveness == Liveness::kAlive;
    return n;
  }
  // A test that stopped halfway leaves its service running: it is stopped
  // here, before GroupTest looks for anything left behind.
  void TearDown() override {
    if (PoolExists(pool)) (void)Cmd(pool, {"stop"});
    GroupTest::TearDown();
  }
  // Tasks done in the pool, of every request.
  static uint64_t DoneTasks(const std::string& pool_name) {
    auto p = Pool::Open(pool_name, OpenMode::kReadOnly);
    if (!p.ok()) return 0;
    auto st = (*p)->Stats();
    return st.ok() ? st->tasks_by_state[static_cast<int>(TaskState::kDone)] : 0;
  }
  // A request's final document, once it has one (waiting up to `wait`).
  static std::optional<json> FinalOf(const std::string& pool_name, const std::string& id,
                                     std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      if (auto p = Pool::Open(pool_name, OpenMode::kReadOnly); p.ok()) {
        Query q;
        q.segments = {"results"};
        q.all_tags = {"final", "req:" + id};
        if (auto found = (*p)->Find(q); found.ok() && !found->empty())
          if (auto doc = PayloadToJson(found->back().payload); doc.ok()) return json(*doc);
      }
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(50ms);
    }
  }
  std::string Request(const std::string& name, int tasks, int base) {
    std::vector<json> t;
    for (int i = 0; i < tasks; ++i) t.push_back({{"payload", {{"ms", 20}, {"n", base + i}}}});
    return Jsonl(name, t);
  }
};

TEST_F(LifecycleTest, StartSubmitStatusScaleStop) {
  auto started = Cmd(pool, {"start", "--workers", "2", "--handler", "sleep"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  EXPECT_NE(started.out.find("started"), std::string::npos);
  EXPECT_EQ(Cmd(pool, {"start"}).exit_code, 2) << "a second start on the same pool";

  // Two requests: one queued without waiting, one waited for.
  const auto queued = Cmd(pool, {"submit", "--no-wait", Request("a.jsonl", 6, 0)});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  const std::string first_id = queued.out.substr(0, queued.out.find('\n'));
  const auto waited = Cmd(pool, {"submit", Request("b.jsonl", 5, 100)});
  ASSERT_EQ(waited.exit_code, 0) << waited.err;
  const json result = json::parse(waited.out);
  ASSERT_EQ(result["tasks"].size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(result["tasks"][i]["status"], "done");
    EXPECT_EQ(result["tasks"][i]["result"]["slept_ms"], 20);
  }
  EXPECT_NE(result["request"]["id"], first_id);

  const auto status = Cmd(pool, {"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("requests: 0 active, 2 finished"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("worker-2"), std::string::npos);
  EXPECT_NE(status.out.find("LEAD    term 1: 'supervisor-"), std::string::npos) << status.out;

  ASSERT_EQ(Cmd(pool, {"scale", "4"}).exit_code, 0);
  EXPECT_EQ(AliveWorkers(pool), 4);
  const auto on_four = Cmd(pool, {"submit", Request("c.jsonl", 8, 200)});
  ASSERT_EQ(on_four.exit_code, 0) << on_four.err;
  EXPECT_EQ(json::parse(on_four.out)["summary"]["workers"], 4);
  ASSERT_EQ(Cmd(pool, {"scale", "1"}).exit_code, 0);
  EXPECT_EQ(AliveWorkers(pool), 1);
  const auto on_one = Cmd(pool, {"submit", Request("d.jsonl", 3, 300)});
  ASSERT_EQ(on_one.exit_code, 0) << on_one.err;
  EXPECT_EQ(json::parse(on_one.out)["summary"]["done"], 3);

  const auto logs = Cmd(pool, {"logs", "supervisor"});
  EXPECT_EQ(logs.exit_code, 0);
  EXPECT_NE(logs.out.find("serving requests"), std::string::npos) << logs.out;

  const auto stopped = Cmd(pool, {"stop"});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(Cmd(pool, {"status"}).exit_code, 1);
  std::this_thread::sleep_for(100ms);  // the keeper's exit reaches its reaper
}

// A service group with a standby: status, the monitor and slate-dump name
// the leader, its term and the standby; the leader killed, the standby
// leads the next term at once and requests go on being served.
TEST_F(LifecycleTest, AStandbyIsShownAndTakesOverTheService) {
  ASSERT_EQ(Cmd(pool, {"start", "--workers", "2", "--handler", "sleep", "--supervisors", "2"})
                .exit_code,
            0);
  ASSERT_EQ(Cmd(pool, {"submit", Request("first.jsonl", 3, 0)}).exit_code, 0);
  auto p = Pool::Open(pool);
  ASSERT_TRUE(p.ok());
  const LeaderInfo first = *(*p)->Leader();
  ASSERT_EQ(first.term, 1u);
  const std::string leads = "LEAD    term 1: '" + first.name + "'";
  const auto status = Cmd(pool, {"status"});
  EXPECT_NE(status.out.find(leads), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("standbys: supervisor-"), std::string::npos) << status.out;
  const auto monitor = RunCommand({"slate-monitor", "--pool", pool, "--once"});
  EXPECT_NE(monitor.out.find(leads), std::string::npos) << monitor.out;
  EXPECT_NE(monitor.out.find("standbys: supervisor-"), std::string::npos) << monitor.out;
  const auto dump = RunCommand({"slate-dump", "--pool", pool, "--stats"});
  EXPECT_NE(dump.out.find(leads), std::string::npos) << dump.out;
  const auto dump_json =
      RunCommand({"slate-dump", "--pool", pool, "--stats", "--format", "jsonl"});
  const json stats = json::parse(dump_json.out, nullptr, false);
  ASSERT_FALSE(stats.is_discarded()) << dump_json.out << dump_json.err;
  EXPECT_EQ(stats["lead"]["holder"], first.name);
  EXPECT_EQ(stats["lead"]["standbys"].size(), 1u);
  EXPECT_EQ(stats["lead"]["refused"], 0);

  kill(first.pid, SIGKILL);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while ((*p)->Leader()->term < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  const LeaderInfo second = *(*p)->Leader();
  EXPECT_EQ(second.term, 2u);
  EXPECT_NE(second.name, first.name);
  const auto served = Cmd(pool, {"submit", Request("second.jsonl", 4, 10)});
  ASSERT_EQ(served.exit_code, 0) << served.err;
  EXPECT_EQ(json::parse(served.out)["summary"]["done"], 4);
  p->reset();
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
  std::this_thread::sleep_for(100ms);
}

// A service group started from a group file: each kind of worker takes
// its own lines, and scale, which adds workers of one kind, is refused.
TEST_F(LifecycleTest, AServiceStartedFromAGroupFileRunsEachKindOfWorker) {
  const std::string file = WriteTempFile("service.json", R"({
    "workers": [{"count": 2, "handler": "sleep"},
                {"count": 1, "capabilities": ["hash"], "handler": "sha256"}]})");
  ASSERT_EQ(Cmd(pool, {"start", "--group", file}).exit_code, 0);
  const auto served = Cmd(pool, {"submit", Jsonl("mixed.jsonl", {
                                                     {{"payload", {{"ms", 10}}}},
                                                     {{"payload", "abc"}, {"requires", "hash"}},
                                                 })});
  ASSERT_EQ(served.exit_code, 0) << served.err;
  const json doc = json::parse(served.out);
  EXPECT_EQ(doc["tasks"][0]["result"]["slept_ms"], 10);
  EXPECT_EQ(doc["tasks"][1]["worker"], "worker-3");
  const auto scaled = Cmd(pool, {"scale", "5"});
  EXPECT_EQ(scaled.exit_code, 2);
  EXPECT_NE(scaled.err.find("workers of several kinds"), std::string::npos) << scaled.err;
  EXPECT_EQ(AliveWorkers(pool), 3);
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
  std::this_thread::sleep_for(100ms);
  const auto mixed = Cmd(pool, {"start", "--group", file, "--handler", "echo"});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("drop --handler"), std::string::npos) << mixed.err;
}

// A service whose file describes a tree: each level runs on its own team,
// and status, the monitor and slate-dump show the tree.
TEST_F(LifecycleTest, AServiceStartedFromATreeShowsEachTeamUnderItsParent) {
  const std::string file = WriteTempFile("tree.json", R"({
    "workers": [{"handler": "echo"}],
    "children": [{"capability": "backend", "workers": [{"count": 2, "handler": "sleep"}],
                  "children": [{"capability": "db", "workers": [{"handler": "sleep"}]}]}]})");
  ASSERT_EQ(Cmd(pool, {"start", "--group", file}).exit_code, 0);
  const json sub = {{"subtasks",
                     {{{"id", "slow"}, {"payload", {{"ms", 4000}}}},
                      {{"id", "down"},
                       {"requires", "db"},
                       {"payload", {{"subtasks", {{{"payload", {{"ms", 10}}}}}}}}}}}};
  const auto submitted = Cmd(pool, {"submit", "--no-wait",
                                    Jsonl("tree.jsonl", {{{"payload", sub}, {"requires", "backend"}},
                                                         {{"payload", "top"}}})});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  // While the slow subtask runs, the tree is at work on every level.
  std::this_thread::sleep_for(700ms);
  const auto status = Cmd(pool, {"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("TREE    backend < top: 'supervisor-"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("\n          db < backend: 'supervisor-"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("sub-supervisor"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(" backend\n"), std::string::npos) << "the TEAM column: " << status.out;
  EXPECT_NE(status.out.find("(team backend)"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("standbys:"), std::string::npos) << "team supervisors stand by for "
                                                                 "nobody: " << status.out;
  const auto monitor = RunCommand({"slate-monitor", "--pool", pool, "--once"});
  EXPECT_NE(monitor.out.find("TREE    "), std::string::npos) << monitor.out;
  EXPECT_NE(monitor.out.find("[backend]"), std::string::npos) << monitor.out;
  const auto dump =
      RunCommand({"slate-dump", "--pool", pool, "--stats", "--format", "jsonl"});
  const json stats = json::parse(dump.out.substr(0, dump.out.find('\n')));
  ASSERT_EQ(stats["teams"].size(), 2u) << dump.out;
  EXPECT_EQ(stats["teams"][0]["team"], "backend");
  EXPECT_EQ(stats["teams"][0]["workers"], 2);
  EXPECT_EQ(stats["teams"][1]["team"], "db");
  EXPECT_EQ(stats["teams"][1]["parent"], "backend");
  EXPECT_EQ(stats["lead"]["standbys"].size(), 0u);
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
}

// Requests waiting for the group start most urgent first: a request
// submitted with a higher --priority goes before one submitted earlier,
// once the request that had begun is done.
TEST_F(LifecycleTest, AnUrgentRequestStartsBeforeAnEarlierOne) {
  ASSERT_EQ(Cmd(pool, {"start", "--workers", "1", "--handler", "sleep"}).exit_code, 0);
  // Long enough for the two submits after it to arrive while it runs, on
  // a sanitizer build and a loaded machine too.
  std::vector<json> slow(4, {{"payload", {{"ms", 500}}}});
  ASSERT_EQ(Cmd(pool, {"submit", "--no-wait", Jsonl("slow.jsonl", slow)}).exit_code, 0);
  const auto low = Cmd(pool, {"submit", "--no-wait", Request("low.jsonl", 2, 0)});
  const auto high =
      Cmd(pool, {"submit", "--no-wait", "--priority", "50", Request("high.jsonl", 2, 10)});
  ASSERT_EQ(low.exit_code, 0) << low.err;
  ASSERT_EQ(high.exit_code, 0) << high.err;
  EXPECT_EQ(Cmd(pool, {"submit", "--priority", "300", Request("bad.jsonl", 1, 0)}).exit_code, 2);
  const std::string low_id = low.out.substr(0, low.out.find('\n'));
  const std::string high_id = high.out.substr(0, high.out.find('\n'));
  // Each request's final entry is written when it finishes.
  std::map<std::string, EntryId> finished;
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (finished.size() < 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
    auto p = Pool::Open(pool, OpenMode::kReadOnly);
    if (!p.ok()) continue;
    Query q;
    q.segments = {"results"};
    q.all_tags = {"final"};
    for (const Entry& e : *(*p)->Find(q))
      for (const std::string& id : {low_id, high_id})
        if (std::find(e.tags.begin(), e.tags.end(), "req:" + id) != e.tags.end())
          finished[id] = e.id;
  }
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_LT(finished[high_id], finished[low_id]) << "the urgent request finished second";
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
}

// Requests run side by side. A short urgent request submitted while a long
// one runs takes workers from it at once (preempting its tasks, which keep
// what they had done): it finishes first, and both are complete.
TEST_F(LifecycleTest, AShortUrgentRequestFinishesFirstAndBothAreWhole) {
  ASSERT_EQ(Cmd(pool, {"start", "--workers", "2", "--handler", "sleep"}).exit_code, 0);
  std::vector<json> slow(16, {{"payload", {{"ms", 250}}}});
  const auto long_req = Cmd(pool, {"submit", "--no-wait", Jsonl("long.jsonl", slow)});
  ASSERT_EQ(long_req.exit_code, 0) << long_req.err;
  const std::string long_id = long_req.out.substr(0, long_req.out.find('\n'));
  ASSERT_TRUE(Eventually([&] { return DoneTasks(pool) >= 2; }, 20s)) << "the long request never began";
  const auto short_req = Cmd(pool, {"submit", "--priority", "50", Request("short.jsonl", 3, 0)});
  ASSERT_EQ(short_req.exit_code, 0) << short_req.err;
  EXPECT_FALSE(FinalOf(pool, long_id, 0s)) << "the long request finished before the short one";
  const json short_doc = json::parse(short_req.out);
  EXPECT_EQ(short_doc["summary"]["done"], 3);
  EXPECT_LT(short_doc["summary"]["wall_ms"].get<double>(), 2000.0);
  const auto long_doc = FinalOf(pool, long_id, 30s);
  ASSERT_TRUE(long_doc) << "the long request never finished";
  EXPECT_EQ((*long_doc)["summary"]["done"], 16);
  EXPECT_EQ((*long_doc)["summary"]["retries"], 0) << "a preemption used up a retry";
  EXPECT_GE((*long_doc)["summary"]["preempted"].get<int>(), 1) << "the urgent one waited";
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
}

// Requests of equal priority share the workers: a short one submitted
// after a long one began does not wait for it to end. Neither preempts the
// other, however long the long one's tasks have waited (aging is fast
// here: a step every 20 ms).
TEST_F(LifecycleTest, RequestsOfEqualPriorityShareTheWorkers) {
  ASSERT_EQ(
      Cmd(pool, {"start", "--workers", "2", "--handler", "sleep", "--age-ms", "20"}).exit_code, 0);
  std::vector<json> slow(24, {{"payload", {{"ms", 100}}}});
  const auto long_req = Cmd(pool, {"submit", "--no-wait", Jsonl("long.jsonl", slow)});
  ASSERT_EQ(long_req.exit_code, 0) << long_req.err;
  const std::string long_id = long_req.out.substr(0, long_req.out.find('\n'));
  ASSERT_TRUE(Eventually([&] { return DoneTasks(pool) >= 2; }, 20s)) << "the long request never began";
  std::vector<json> few(3, {{"payload", {{"ms", 100}}}});
  const auto short_req = Cmd(pool, {"submit", Jsonl("short.jsonl", few)});
  ASSERT_EQ(short_req.exit_code, 0) << short_req.err;
  EXPECT_FALSE(FinalOf(pool, long_id, 0s)) << "the short request waited for the long one";
  EXPECT_EQ(json::parse(short_req.out)["summary"]["done"], 3);
  EXPECT_EQ(json::parse(short_req.out)["summary"]["preempted"], 0);
  const auto long_doc = FinalOf(pool, long_id, 30s);
  ASSERT_TRUE(long_doc);
  EXPECT_EQ((*long_doc)["summary"]["done"], 24);
  EXPECT_EQ((*long_doc)["summary"]["preempted"], 0) << "equal priorities never preempt";
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
}

// A supervisor killed while two requests run side by side is restarted by
// the keeper, and the new one resumes both: each finishes whole, and no
// task runs twice (only the supervisor died).
TEST_F(LifecycleTest, RequestsSideBySideSurviveTheirSupervisorBeingKilled) {
  ASSERT_EQ(Cmd(pool, {"start", "--workers", "2", "--handler", "sleep"}).exit_code, 0);
  // Long enough that both are still running when status looks, however
  // slowly each command starts (a sanitizer's).
  std::vector<json> tasks(10, {{"payload", {{"ms", 300}}}});
  std::vector<std::string> ids;
  for (const char* name : {"a.jsonl", "b.jsonl"}) {
    const auto r = Cmd(pool, {"submit", "--no-wait", Jsonl(name, tasks)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ids.push_back(r.out.substr(0, r.out.find('\n')));
  }
  const auto status = Cmd(pool, {"status"});
  EXPECT_NE(status.out.find("requests: 2 active"), std::string::npos) << status.out;
  for (const std::string& id : ids)
    EXPECT_NE(status.out.find("request " + id + ": "), std::string::npos) << status.out;
  uint64_t killed_term = 0;
  for (uint64_t done_before : {3, 9}) {
    ASSERT_TRUE(Eventually([&] { return DoneTasks(pool) >= done_before; }, 20s));
    auto p = Pool::Open(pool, OpenMode::kReadOnly);
    ASSERT_TRUE(p.ok());
    // The supervisor killed before may not be back yet (slow under a
    // sanitizer), and until the keeper reaps it, it still looks alive:
    // the one to kill is the next that leads, in a term of its own.
    pid_t supervisor = 0;
    ASSERT_TRUE(Eventually(
        [&] {
          auto lead = (*p)->Leader();
          if (lead.ok() && lead->alive && lead->term > killed_term) {
            supervisor = lead->pid;
            killed_term = lead->term;
          }
          return supervisor != 0;
        },
        20s));
    kill(supervisor, SIGKILL);
  }
  for (const std::string& id : ids) {
    const auto doc = FinalOf(pool, id, 30s);
    ASSERT_TRUE(doc) << "request " << id << " never finished";
    ASSERT_EQ((*doc)["tasks"].size(), 10u);
    for (const auto& t : (*doc)["tasks"]) {
      EXPECT_EQ(t["status"], "done");
      EXPECT_EQ(t["attempts"], 1) << "a task ran twice in request " << id;
    }
  }
  {
    auto p = Pool::Open(pool);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE((*p)->Check().empty());
    // Each replacement took the lead in a term of its own.
    EXPECT_EQ((*p)->Leader()->term, 3u);
  }
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
}

TEST_F(LifecycleTest, TwoGroupsSideBySide) {
  const std::string other = pool + "-b";
  ASSERT_EQ(Cmd(pool, {"start", "--workers", "1"}).exit_code, 0);
  ASSERT_EQ(Cmd(other, {"start", "--workers", "2"}).exit_code, 0);
  const auto a = Cmd(pool, {"submit", Request("x.jsonl", 4, 0)});
  const auto b = Cmd(other, {"submit", Request("y.jsonl", 4, 50)});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(json::parse(a.out)["tasks"][0]["result"]["n"], 0);
  EXPECT_EQ(json::parse(b.out)["tasks"][0]["result"]["n"], 50);
  EXPECT_EQ(json::parse(a.out)["summary"]["workers"], 1);
  EXPECT_EQ(json::parse(b.out)["summary"]["workers"], 2);
  EXPECT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
  EXPECT_EQ(Cmd(other, {"stop"}).exit_code, 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(PoolExists(other));
  EXPECT_TRUE(ProcessesMentioning(other).empty());
  EXPECT_FALSE(std::filesystem::exists("/tmp/slate-" + std::to_string(geteuid()) + "/" + other))
      << "runtime folder left behind";
}

// A pool kept for inspection (run --keep) is removed by stop, which says
// so; one a run still works in is not.
TEST_F(LifecycleTest, StopRemovesAKeptPoolButNotOneARunIsUsing) {
  ASSERT_EQ(Cmd(pool, {"run", "--keep", "--workers", "1", Request("k.jsonl", 3, 0)}).exit_code, 0);
  ASSERT_TRUE(PoolExists(pool));
  EXPECT_NE(Cmd(pool, {"status"}).err.find("the pool is still there"), std::string::npos);
  const auto stop = Cmd(pool, {"stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("removed the pool"), std::string::npos) << stop.out;
  EXPECT_FALSE(PoolExists(pool));
  std::vector<json> slow(4, {{"payload", {{"ms", 3000}}}});
  const pid_t run = StartCommand({"slate-launch", "run", "--pool", pool, "--workers", "1",
                                  "--handler", "sleep", Jsonl("slow.jsonl", slow)});
  ASSERT_TRUE(Eventually(
      [&] { return PoolExists(pool) && ProcessesMentioning(pool).size() >= 3; }, 10s));
  std::this_thread::sleep_for(300ms);  // its members registered
  const auto refused = Cmd(pool, {"stop"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("is in use by"), std::string::npos) << refused.err;
  EXPECT_TRUE(PoolExists(pool));
  kill(run, SIGINT);
  WaitCommand(run, 10000);
}

// start takes the tuning run takes, and hands it to the members.
TEST_F(LifecycleTest, StartPassesWorkerGroupsLeasesHangsMetricsAndSupervisorArgsOn) {
  const auto started = Cmd(pool, {"start", "--workers", "1", "--worker-group", "1:hash",
                                  "--lease-ms", "20000",
                                  "--hung-after-ms", "4000", "--metrics", "0", "--log-level",
                                  "debug", "--supervisor-arg", "--no-worker-timeout-ms=20000"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  std::string all;
  for (pid_t p : ProcessesMentioning(pool)) {
    std::ifstream in("/proc/" + std::to_string(p) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), {});
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    all += cmd + "\n";
  }
  EXPECT_NE(all.find("slate-worker --pool " + pool + " --log-level debug"), std::string::npos) << all;
  EXPECT_NE(all.find("--lease-ms 20000"), std::string::npos) << all;
  EXPECT_NE(all.find("slate-coordinator --pool " + pool + " --log-level debug --hung-after-ms 4000 "
                     "--metrics 0"), std::string::npos) << all;
  EXPECT_NE(all.find("--no-worker-timeout-ms=20000"), std::string::npos) << all;
  const auto served = Cmd(pool, {"submit", Jsonl("hash.jsonl", {
                                                     {{"payload", "abc"}, {"requires", "hash"}},
                                                     {{"payload", "def"}, {"requires", "hash"}},
                                                 })});
  ASSERT_EQ(served.exit_code, 0) << served.err;
  const json doc = json::parse(served.out);
  for (const auto& t : doc["tasks"]) EXPECT_EQ(t["worker"], "worker-2") << t;
  ASSERT_EQ(Cmd(pool, {"stop"}).exit_code, 0);
  for (const char* bad : {"x:hash", ":hash", "-1:hash"}) {
    const auto refused = Cmd(pool, {"start", "--worker-group", bad});
    EXPECT_EQ(refused.exit_code, 2) << bad;
    EXPECT_NE(refused.err.find("is not N:cap1,cap2"), std::string::npos) << refused.err;
  }
}

// A group whose supervisor cannot start says why at once, in the
// supervisor's own words, instead of waiting out its 15 s.
TEST_F(LifecycleTest, AStartThatCrashLoopsSaysWhy) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto started =
      Cmd(pool, {"start", "--workers", "1", "--supervisor-arg", "--no-such-option"});
  EXPECT_EQ(started.exit_code, 1);
  EXPECT_NE(started.err.find("the group stopped as it started"), std::string::npos) << started.err;
  EXPECT_NE(started.err.find("unrecognised option '--no-such-option'"), std::string::npos)
      << started.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 14s);
  const auto stop = Cmd(pool, {"stop"});
  EXPECT_EQ(stop.exit_code, 0);
  EXPECT_NE(stop.out.find("every supervisor has crashed"), std::string::npos) << stop.out;
  EXPECT_FALSE(PoolExists(pool));
}

// stop --drain lets the running requests finish; a plain stop would end
// them with the group.
TEST_F(LifecycleTest, StopDrainLetsTheRunningRequestsFinish) {
  ASSERT_EQ(Cmd(pool, {"start", "--workers", "1", "--handler", "sleep"}).exit_code, 0);
  std::vector<json> slow(4, {{"payload", {{"ms", 400}}}});
  const std::string out = WriteTempFile("drained.json", "");
  const pid_t submit =
      StartCommandToFile({"slate-launch", "submit", "--pool", pool, Jsonl("slow.jsonl", slow)}, out);
  ASSERT_TRUE(Eventually([&] { return Cmd(pool, {"status"}).out.find("requests: 1 active") !=
                                      std::string::npos; }, 10s));
  const auto t0 = std::chrono::steady_clock::now();
  const auto stop = Cmd(pool, {"stop", "--drain"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.err.find("waiting for 1 request(s) to finish"), std::string::npos) << stop.err;
  EXPECT_GT(std::chrono::steady_clock::now() - t0, 500ms) << "stop did not wait";
  EXPECT_EQ(WaitCommand(submit, 10000), 0);
  std::ifstream in(out);
  const json doc = json::parse(in);
  EXPECT_EQ(doc["summary"]["done"], 4) << doc.dump();
  EXPECT_FALSE(PoolExists(pool));
}

TEST_F(LifecycleTest, CommandsWithoutAGroupSayWhy) {
  EXPECT_EQ(Cmd(pool, {"status"}).exit_code, 1);
  const auto submit = Cmd(pool, {"submit", Request("z.jsonl", 1, 0)});
  EXPECT_EQ(submit.exit_code, 2);
  EXPECT_NE(submit.err.find("no group is running"), std::string::npos) << submit.err;
  EXPECT_EQ(Cmd(pool, {"stop"}).exit_code, 1);
  EXPECT_EQ(Cmd(pool, {"scale"}).exit_code, 2);
}

}  // namespace
}  // namespace slate::testing
