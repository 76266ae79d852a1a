// Supervision trees end to end: slate-launch run --group FILE with
// sub-supervisors, each running its parent's tasks as sub-requests over
// its own team, and a sub-supervisor killed mid-run.
#include <signal.h>

#include <fstream>
#include <map>

#include "group_fixture.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

// Each team's workers answer with the team's name: a result says which
// team ran it.
std::string TreeFile() {
  return WriteTempFile("tree.json", R"({
  "workers": [{"exec": "printf '\"top\"'", "shell": true}],
  "children": [
    {"capability": "alpha",
     "workers": [{"count": 2, "exec": "printf '\"alpha\"'", "shell": true}],
     "children": [
       {"capability": "gamma",
        "workers": [{"exec": "printf '\"gamma\"'", "shell": true}]}]},
    {"capability": "beta",
     "decompose": "printf '{\"id\": \"b1\", \"payload\": 1}\\n{\"id\": \"b2\", \"payload\": 2}\\n'",
     "synthesize": "python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({\"made\": [r[\"result\"] for r in d[\"results\"]], \"of\": d[\"task\"]}))'",
     "workers": [{"exec": "printf '\"beta\"'", "shell": true}]}]})");
}

TEST_F(GroupTest, ATreeOfThreeLevelsRunsEachSubtaskOnItsOwnTeam) {
  const json subtasks = {{{"id", "a1"}, {"payload", "x"}},
                         {{"id", "a2"}, {"payload", "y"}},
                         {{"id", "down"},
                          {"requires", "gamma"},
                          {"payload", {{"subtasks", {{{"id", "g1"}, {"payload", "z"}}}}}}}};
  json out;
  const auto r = Launch({"--group", TreeFile(),
                         Jsonl("tree.jsonl", {{{"id", "plain"}, {"payload", "p"}},
                                              {{"id", "a"},
                                               {"requires", "alpha"},
                                               {"payload", {{"subtasks", subtasks}}}},
                                              {{"id", "b"}, {"requires", "beta"}, {"payload", "b"}}})},
                        &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tasks = ById(out);
  // A line that requires nothing never goes to a sub-supervisor.
  EXPECT_EQ(tasks["plain"]["result"], "top");
  const json& a = tasks["a"]["result"];
  EXPECT_EQ(a["team"], "alpha") << a.dump();
  ASSERT_EQ(a["results"].size(), 3u) << a.dump();
  EXPECT_EQ(a["results"][0], json({{"id", "a1"}, {"result", "alpha"}}));
  EXPECT_EQ(a["results"][1]["result"], "alpha");
  // Three levels: the gamma sub-supervisor ran "down" over its own team.
  const json& down = a["results"][2]["result"];
  EXPECT_EQ(down["team"], "gamma") << down.dump();
  EXPECT_EQ(down["results"], json::parse(R"([{"id": "g1", "result": "gamma"}])"));
  // beta: --decompose made its subtasks, --synthesize its result.
  EXPECT_EQ(tasks["b"]["result"], json::parse(R"({"made": ["beta", "beta"], "of": "b"})"))
      << tasks["b"].dump();
  EXPECT_EQ(r.out.find("\"source\": \"task "), std::string::npos)
      << "sub-requests' documents stay out of the run's output";
}

TEST_F(GroupTest, AKilledSubSupervisorIsReplacedAndNothingDoneRunsAgain) {
  const std::string log = WriteTempFile("runs.log", "");
  // Each run of a subtask leaves a line: its payload.
  const std::string file = WriteTempFile("kill.json", R"({
  "workers": [{"handler": "echo"}],
  "children": [{"capability": "alpha",
                "workers": [{"count": 2, "shell": true,
                             "exec": "read x; echo \"$x\" >> )" + log + R"(; sleep 0.3; echo \"$x\""}]}]})");
  std::vector<json> subtasks;
  for (int i = 0; i < 12; ++i) subtasks.push_back({{"payload", i}});
  const std::string input =
      Jsonl("kill.jsonl", {{{"id", "a"}, {"requires", "alpha"}, {"payload", {{"subtasks", subtasks}}}}});
  const std::string out_path = WriteTempFile("kill.out", "");
  const pid_t launch = StartCommandToFile(
      {"slate-launch", "run", "--pool", pool, "--group", file, "--restart-delay-ms", "50", input},
      out_path);
  auto lines = [&] {
    std::ifstream in(log);
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  };
  ASSERT_TRUE(Eventually([&] { return lines().size() >= 3; }, 30s));
  auto p = Pool::Open(pool);
  ASSERT_TRUE(p.ok()) << p.status().message();
  pid_t sub = 0;
  for (const auto& ag : *(*p)->ListAgents(10s))
    if (ag.name == "alpha") {
      EXPECT_EQ(ag.role, AgentRole::kSubSupervisor);
      sub = ag.pid;
    }
  ASSERT_GT(sub, 0);
  ASSERT_EQ(kill(sub, SIGKILL), 0);
  // Its replacement registers under the same name.
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& ag : *(*p)->ListAgents(10s))
          if (ag.name == "alpha" && ag.pid != sub && ag.liveness == Liveness::kAlive) return true;
        return false;
      },
      30s));
  p->reset();
  ASSERT_EQ(WaitCommand(launch, 90000), 0) << ReadFile(out_path);
  const json out = json::parse(ReadFile(out_path), nullptr, false);
  ASSERT_FALSE(out.is_discarded());
  const json& a = out["tasks"][0]["result"];
  ASSERT_EQ(a["results"].size(), 12u) << a.dump();
  for (int i = 0; i < 12; ++i) EXPECT_EQ(a["results"][i]["result"], i);
  // The workers went on while their supervisor was replaced: every
  // subtask ran once, none again.
  std::map<std::string, int> runs;
  for (const auto& l : lines()) ++runs[l];
  EXPECT_EQ(runs.size(), 12u);
  for (const auto& [x, n] : runs) EXPECT_EQ(n, 1) << "subtask " << x << " ran " << n << " times";
}

// examples/tree runs as docs/REQUESTS.md says (its commands made absolute: the
// file names them from the repository's root).
TEST_F(GroupTest, TheExampleTreeBuildsEveryPartOfEachFeature) {
  std::string file = ReadFile(SourceDir() + "/examples/tree/tree.toml");
  const std::string relative = "python3 examples/";
  const std::string absolute = "python3 " + SourceDir() + "/examples/";
  for (size_t at = 0; (at = file.find(relative, at)) != std::string::npos; at += absolute.size())
    file.replace(at, relative.size(), absolute);
  json out;
  const auto r = Launch({"--group", WriteTempFile("tree.toml", file),
                         SourceDir() + "/examples/tree/request.jsonl"},
                        &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = ById(out);
  EXPECT_EQ(t["login-ui"]["result"],
            json::parse(R"({"complete": true, "feature": "login",
                            "parts": ["markup", "styles", "accessibility"]})"));
  // backend's schema went down a level, to the database team.
  EXPECT_EQ(t["login-service"]["result"]["parts"], json({"api", "auth", "login-schema"}));
  EXPECT_EQ(t["signup-service"]["result"]["parts"], json({"api", "signup-tables"}));
  const json& tests = t["login-tests"]["result"];
  EXPECT_EQ(tests["team"], "testing");
  ASSERT_EQ(tests["results"].size(), 2u);
  EXPECT_EQ(tests["results"][1]["result"]["part"], "end-to-end");
}

}  // namespace
}  // namespace slate::testing
