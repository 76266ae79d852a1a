// End-to-end plans: real groups run requests whose lines depend on each
// other. Each dependent must start only after its dependencies finished,
// see exactly their results as context, and be skipped or cancelled, never
// stuck, when they cannot finish.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "group_fixture.h"
#include "run_command.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

// An exec agent whose result is recomputable: its payload plus the sum of
// its context's values, the ids it saw, and when it ran (wall clock ns).
const char* kSumAgent = R"(import json, sys, time
start = time.time_ns()
env = json.load(sys.stdin)
v = env["payload"] + sum(r["v"] for r in env["context"].values())
print(json.dumps({"v": v, "saw": sorted(env["context"]), "start": start,
                  "end": time.time_ns(), "iteration": env["iteration"]}))
)";

class PlanTest : public GroupTest {
 protected:
  std::string SumAgent() { return "python3 " + WriteTempFile("sum_agent.py", kSumAgent); }
};

TEST_F(PlanTest, ADiamondRunsEachStepAfterItsDependenciesWithTheirResults) {
  const std::string input = Jsonl("diamond.jsonl", {
      {{"id", "ship"}, {"payload", 4}, {"depends_on", {"api", "web"}}},
      {{"id", "schema"}, {"payload", 1}},
      {{"id", "api"}, {"payload", 2}, {"depends_on", {"schema"}}},
      {{"id", "web"}, {"payload", 3}, {"depends_on", {"schema"}}},
  });
  json out;
  const auto r = Launch({"--workers", "3", "--exec", SumAgent(), input}, &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = ById(out);
  EXPECT_EQ(t["schema"]["result"]["v"], 1);
  EXPECT_EQ(t["api"]["result"]["v"], 3);
  EXPECT_EQ(t["web"]["result"]["v"], 4);
  EXPECT_EQ(t["ship"]["result"]["v"], 11);
  EXPECT_EQ(t["ship"]["result"]["saw"], json({"api", "web"}));
  EXPECT_EQ(t["schema"]["result"]["saw"], json::array());
  EXPECT_GE(t["api"]["result"]["start"], t["schema"]["result"]["end"]);
  EXPECT_GE(t["ship"]["result"]["start"], t["web"]["result"]["end"]);
  EXPECT_EQ(t["ship"]["status"], "done");
  EXPECT_EQ(t["ship"]["iterations"], 1);
  EXPECT_EQ(out["summary"]["done"], 4);
}

TEST_F(PlanTest, ARandomGraphsResultsEqualARecomputationAndNoStepStartsEarly) {
  std::mt19937 rng(20261204);
  constexpr int kLines = 80;
  std::vector<std::vector<int>> deps(kLines);
  std::vector<json> lines;
  for (int i = 0; i < kLines; ++i) {
    for (int d = 0; d < i; ++d)
      if (rng() % 100 < 6) deps[i].push_back(d);
    json deps_ids = json::array();
    for (int d : deps[i]) deps_ids.push_back("n" + std::to_string(d));
    json line = {{"id", "n" + std::to_string(i)}, {"payload", i}};
    if (!deps[i].empty()) line["depends_on"] = deps_ids;
    lines.push_back(line);
  }
  std::shuffle(lines.begin(), lines.end(), rng);  // forward references too
  json out;
  const auto r = Launch({"--workers", "4", "--exec", SumAgent(), Jsonl("random.jsonl", lines)},
                        &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = ById(out);
  std::vector<int64_t> expect(kLines);
  for (int i = 0; i < kLines; ++i) {
    expect[i] = i;
    for (int d : deps[i]) expect[i] += expect[d];
  }
  for (int i = 0; i < kLines; ++i) {
    const json& item = t["n" + std::to_string(i)];
    ASSERT_EQ(item["status"], "done") << i;
    EXPECT_EQ(item["result"]["v"].get<int64_t>(), expect[i]) << "line n" << i;
    std::set<std::string> want;
    for (int d : deps[i]) {
      want.insert("n" + std::to_string(d));
      EXPECT_GE(item["result"]["start"].get<int64_t>(),
                t["n" + std::to_string(d)]["result"]["end"].get<int64_t>())
          << "n" << i << " started before n" << d << " ended";
    }
    EXPECT_EQ(item["result"]["saw"].get<std::set<std::string>>(), want) << i;
  }
}

TEST_F(PlanTest, ADeadLetteredStepSkipsEverythingBehindItAndNothingElse) {
  const std::string input = Jsonl("broken.jsonl", {
      {{"id", "root"}, {"payload", "not milliseconds"}, {"max_retries", 0}},
      {{"id", "mid"}, {"payload", 1}, {"depends_on", {"root"}}},
      {{"id", "leaf"}, {"payload", 1}, {"depends_on", {"mid", "free"}}},
      {{"id", "free"}, {"payload", 1}},
  });
  json out;
  const auto r = Launch({"--workers", "2", "--handler", "sleep", input}, &out);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto t = ById(out);
  EXPECT_EQ(t["root"]["status"], "dead_lettered");
  EXPECT_EQ(t["mid"]["status"], "skipped");
  EXPECT_EQ(t["mid"]["error"], "dependency 'root' was dead-lettered");
  EXPECT_EQ(t["leaf"]["status"], "skipped");
  EXPECT_EQ(t["leaf"]["error"], "dependency 'mid' was skipped");
  EXPECT_EQ(t["free"]["status"], "done");
  EXPECT_EQ(out["summary"]["skipped"], 2);
  EXPECT_NE(r.err.find("2 skipped"), std::string::npos) << r.err;
}

TEST_F(PlanTest, ABadGraphIsRefusedBeforeAnythingStarts) {
  const std::string input = Jsonl("cycle.jsonl", {
      {{"id", "a"}, {"payload", 1}, {"depends_on", {"b"}}},
      {{"id", "b"}, {"payload", 1}, {"depends_on", {"a"}}},
  });
  const auto r = Launch({input});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dependency cycle: 'a' depends on 'b' depends on 'a' (lines 1, 2)"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty());
}

// A running step is cancelled by an operator: its command gets SIGTERM
// (and writes that it did), what depends on it is skipped, and a queued
// step cancelled by its line id never runs.
TEST_F(PlanTest, CancellingARunningAndAQueuedStepStopsThemAndSkipsTheirDependents) {
  const std::string marker = WriteTempFile("terminated", "");
  const std::string agent = WriteTempFile(
      "slow_agent.py",
      "import json, signal, sys, time\n"
      "def stop(*_):\n"
      "    open('" + marker + "', 'w').write('terminated')\n"
      "    sys.exit(1)\n"
      "signal.signal(signal.SIGTERM, stop)\n"
      "env = json.load(sys.stdin)\n"
      "if env['payload'] == 'slow':\n"
      "    open('" + marker + "', 'w').write('ready')\n"
      "    time.sleep(60)\n"
      "print(json.dumps(env['payload']))\n");
  const std::string input = Jsonl("cancel.jsonl", {
      {{"id", "long"}, {"payload", "slow"}, {"priority", 10}},
      {{"id", "after"}, {"payload", "x"}, {"depends_on", {"long"}}},
      {{"id", "tail"}, {"payload", "y"}, {"depends_on", {"after"}}},
      {{"id", "queued"}, {"payload", "z"}},  // behind "long" in the one worker's queue
  });
  const std::string out_path = WriteTempFile("cancel-out.json", "");
  const pid_t run = StartCommandToFile(
      {"slate-launch", "run", "--pool", pool, "--workers", "1", "--exec", "python3 " + agent,
       input},
      out_path);
  // Wait until "long" runs (its command says so once its SIGTERM handler
  // is in place), then cancel it and, by its line id, "queued".
  for (int i = 0; i < 400 && ReadFile(marker) != "ready"; ++i) std::this_thread::sleep_for(25ms);
  ASSERT_EQ(ReadFile(marker), "ready");
  const auto c1 = RunCommand({"slate-launch", "cancel", "--pool", pool, "--task", "queued"});
  EXPECT_EQ(c1.exit_code, 0) << c1.err;
  EXPECT_NE(c1.out.find("cancelled 1 task(s)"), std::string::npos) << c1.out;
  const auto started = std::chrono::steady_clock::now();
  const auto c2 = RunCommand({"slate-launch", "cancel", "--pool", pool, "--task", "long"});
  EXPECT_EQ(c2.exit_code, 0) << c2.err;
  EXPECT_NE(c2.out.find("1 of them running"), std::string::npos) << c2.out;
  EXPECT_EQ(WaitCommand(run, 30000), 3);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  json out = json::parse(ReadFile(out_path), nullptr, false);
  auto t = ById(out);
  EXPECT_EQ(t["long"]["status"], "cancelled");
  EXPECT_EQ(t["queued"]["status"], "cancelled");
  EXPECT_EQ(t["after"]["status"], "skipped");
  EXPECT_EQ(t["after"]["error"], "dependency 'long' was cancelled");
  EXPECT_EQ(t["tail"]["status"], "skipped");
  EXPECT_EQ(out["summary"]["cancelled"], 2);
  EXPECT_EQ(ReadFile(marker), "terminated") << "the command never got SIGTERM";
  const auto again = RunCommand({"slate-launch", "cancel", "--pool", pool, "--task", "long"});
  EXPECT_EQ(again.exit_code, 1);
}

// The supervisor is SIGKILLed again and again while a chain runs; each
// replacement rebuilds the plan from the pool. Every step runs once, in
// order, with its predecessor's result.
TEST_F(PlanTest, AChainSurvivesItsSupervisorBeingKilled) {
  std::vector<json> lines;
  constexpr int kSteps = 24;
  for (int i = 0; i < kSteps; ++i) {
    json line = {{"id", "s" + std::to_string(i)}, {"payload", 1}};
    if (i > 0) line["depends_on"] = {"s" + std::to_string(i - 1)};
    lines.push_back(line);
  }
  const std::string out_path = WriteTempFile("chain-out.json", "");
  const pid_t run = StartCommandToFile({"slate-launch", "run", "--pool", pool, "--workers", "2",
                                        "--exec", SumAgent(), Jsonl("chain.jsonl", lines)},
                                       out_path);
  int kills = 0;
  for (int i = 0; i < 40 && kills < 4; ++i) {
    std::this_thread::sleep_for(150ms);
    for (pid_t p : ProcessesMentioning(pool))
      if (ReadFile("/proc/" + std::to_string(p) + "/cmdline").find("slate-supervisor") !=
          std::string::npos) {
        kill(p, SIGKILL);
        ++kills;
      }
  }
  EXPECT_GE(kills, 2);
  ASSERT_EQ(WaitCommand(run, 60000), 0);
  json out = json::parse(ReadFile(out_path), nullptr, false);
  auto t = ById(out);
  for (int i = 0; i < kSteps; ++i) {
    const json& item = t["s" + std::to_string(i)];
    EXPECT_EQ(item["status"], "done") << i;
    EXPECT_EQ(item["attempts"], 1) << "step " << i << " ran again";
    EXPECT_EQ(item["result"]["v"], i + 1) << i;
    if (i > 0) {
      EXPECT_GE(item["result"]["start"].get<int64_t>(),
                t["s" + std::to_string(i - 1)]["result"]["end"].get<int64_t>());
    }
  }
}

}  // namespace
}  // namespace slate::testing
