// Group files (slate-launch run --group FILE): both formats read to the same
// tree, and each mistake is refused with the file and the key it is at.
#include "group_file.h"

#include <gtest/gtest.h>

#include <string>

namespace slate::launch {
namespace {

constexpr const char* kToml = R"(
supervisors = 2

[[workers]]
count = 3
capabilities = ["words"]
handler = "wordcount"

[[workers]]
capabilities = ["hash"]
exec = "sha256sum"
shell = true

[[children]]
capability = "backend"
decompose = "python3 split.py"
synthesize = "python3 merge.py"
  [[children.workers]]
  count = 2
  python = "agents:answer"
)";

constexpr const char* kJson = R"({
  "supervisors": 2,
  "workers": [
    {"count": 3, "capabilities": ["words"], "handler": "wordcount"},
    {"capabilities": ["hash"], "exec": "sha256sum", "shell": true}
  ],
  "children": [
    {"capability": "backend", "decompose": "python3 split.py", "synthesize": "python3 merge.py",
     "workers": [{"count": 2, "python": "agents:answer"}]}
  ]
})";

void ExpectTheSampleTree(const SupervisorNode& top) {
  EXPECT_EQ(top.supervisors, 2u);
  ASSERT_EQ(top.workers.size(), 2u);
  EXPECT_EQ(top.workers[0].count, 3u);
  EXPECT_EQ(top.workers[0].capabilities, std::vector<std::string>{"words"});
  EXPECT_EQ(top.workers[0].flags.handler, "wordcount");
  EXPECT_EQ(top.workers[1].count, 1u) << "count defaults to 1";
  EXPECT_EQ(top.workers[1].flags.exec, "sha256sum");
  EXPECT_TRUE(top.workers[1].flags.shell);
  ASSERT_EQ(top.children.size(), 1u);
  const SupervisorNode& backend = top.children[0];
  EXPECT_EQ(backend.capability, "backend");
  EXPECT_EQ(backend.decompose, "python3 split.py");
  EXPECT_EQ(backend.synthesize, "python3 merge.py");
  EXPECT_EQ(backend.supervisors, 1u);
  ASSERT_EQ(backend.workers.size(), 1u);
  EXPECT_EQ(backend.workers[0].flags.python, "agents:answer");
  EXPECT_EQ(TreeLevels(top), 2);
}

TEST(GroupFileTest, TomlAndJsonReadToTheSameTree) {
  auto toml = ParseGroupFile("team.toml", kToml);
  ASSERT_TRUE(toml.ok()) << toml.status().message();
  ExpectTheSampleTree(*toml);
  auto json = ParseGroupFile("team.json", kJson);
  ASSERT_TRUE(json.ok()) << json.status().message();
  ExpectTheSampleTree(*json);
}

TEST(GroupFileTest, ThreeLevelsAreAllowedAndFourAreRefusedNamingTheBranch) {
  const std::string three = R"({"workers": [{}], "children": [
      {"capability": "frontend", "workers": [{}]},
      {"capability": "backend", "workers": [{}], "children": [
        {"capability": "db", "workers": [{}]}]}]})";
  auto ok = ParseGroupFile("three.json", three);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(TreeLevels(*ok), 3);
  const std::string four = R"({"workers": [{}], "children": [
      {"capability": "frontend", "workers": [{}]},
      {"capability": "backend", "workers": [{}], "children": [
        {"capability": "db", "workers": [{}], "children": [
          {"capability": "shards", "workers": [{}]}]}]}]})";
  auto refused = ParseGroupFile("four.json", four);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "four.json: the tree is 4 levels of supervisors deep (top > backend > db > shards); "
            "slate runs at most 3: each level adds latency and loses information on the way up");
}

TEST(GroupFileTest, TeamsListEachSubSupervisorAfterItsParent) {
  auto top = ParseGroupFile("t.json", R"({"children": [
      {"capability": "backend", "decompose": "plan", "workers": [{"count": 2}],
       "children": [{"capability": "db", "synthesize": "sum", "workers": [{}]}]},
      {"capability": "frontend", "workers": [{}]}]})");
  ASSERT_TRUE(top.ok()) << top.status().message();
  EXPECT_TRUE(top->workers.empty()) << "the top level may leave all work to its children";
  const auto teams = Teams(*top);
  ASSERT_EQ(teams.size(), 3u);
  EXPECT_EQ(teams[0].team, "backend");
  EXPECT_EQ(teams[0].parent, "");
  EXPECT_EQ(teams[0].decompose, "plan");
  EXPECT_EQ(teams[0].workers[0].count, 2u);
  EXPECT_EQ(teams[1].team, "frontend");
  EXPECT_EQ(teams[2].team, "db");
  EXPECT_EQ(teams[2].parent, "backend");
  EXPECT_EQ(teams[2].path, "children[0].children[0]");
  const auto argv = TeamSupervisorArgv("/bin", teams[2], {"--policy", "least-loaded"});
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/slate-supervisor", "--team", "db", "--policy",
                                            "least-loaded", "--parent-team", "backend",
                                            "--synthesize", "sum"}));
}

TEST(GroupFileTest, EachMistakeNamesTheFileAndTheKey) {
  const struct {
    const char* file;
    const char* text;
    const char* message;
  } cases[] = {
      {"g.json", "{not json", "g.json: not valid JSON"},
      {"g.toml", "supervisors = \n", "g.toml:1: "},
      {"g.json", "[]", "g.json: must be a table"},
      {"g.json", R"({"workers": []})", "g.json: workers: needs at least one group of workers"},
      {"g.json", R"({"worker": [{}]})", "g.json: worker: unknown key (known: supervisors, "
                                        "workers, children)"},
      {"g.toml", "[[workers]]\nhadler = \"echo\"\n",
       "g.toml: workers[0].hadler: unknown key (known: count, capabilities, handler, exec, "
       "serve, python, shell, validate)"},
      {"g.json", R"({"workers": [{"count": 0}]})",
       "g.json: workers[0].count: must be a whole number from 1 to 512, not 0"},
      {"g.json", R"({"workers": [{"count": 300}, {"count": 300}]})",
       "g.json: workers: 600 workers; at most 512 in a group"},
      {"g.json", R"({"supervisors": 4, "workers": [{}]})",
       "g.json: supervisors: must be a whole number from 1 to 3, not 4"},
      {"g.json", R"({"workers": [{"handler": "nope"}]})",
       "g.json: workers[0]: unknown handler 'nope'"},
      {"g.json", R"({"workers": [{"handler": "echo", "exec": "cat"}]})",
       "g.json: workers[0]: give one of handler, exec, serve and python"},
      {"g.json", R"({"workers": [{"capabilities": ["has space"]}]})",
       "g.json: workers[0].capabilities: \"has space\" is not a capability"},
      {"g.json", R"({"workers": [{"shell": "yes"}]})",
       "g.json: workers[0].shell: must be true or false"},
      {"g.json", R"({"workers": [{}], "children": [{"workers": [{}]}]})",
       "g.json: children[0]: a sub-supervisor needs the capability of the tasks it takes"},
      {"g.json",
       R"({"workers": [{}], "children": [{"capability": "b", "workers": [{}]},
                                         {"capability": "b", "workers": [{}]}]})",
       "g.json: children[1].capability: 'b' is taken by another sub-supervisor here"},
      {"g.json", R"({"capability": "top", "workers": [{}]})",
       "g.json: capability: unknown key"},
      {"g.json",
       R"({"children": [{"capability": "b", "workers": [{}],
                         "children": [{"capability": "c", "workers": [{}]}]},
                        {"capability": "c", "workers": [{}]}]})",
       "g.json: children[0].children[0].capability: 'c' also names children[1]; each "
       "sub-supervisor leads a team of its own name"},
      {"g.json", R"({"children": [{"capability": "b", "supervisors": 2, "workers": [{}]}]})",
       "g.json: children[0].supervisors: a team has one supervisor at a time (restarted when "
       "it dies), not 2"},
      {"g.json",
       R"({"children": [{"capability": "a-team-name-of-28-characters", "workers": [{}]}]})",
       "g.json: children[0].capability: 1 to 27 characters of [A-Za-z0-9._-]"},
      {"g.json", R"({"children": [{"capability": "b"}]})",
       "g.json: children[0].workers: needs at least one group of workers (or children)"},
      {"g.toml", "[[workers]]\ncount = 1979-05-27\n",
       "g.toml: workers[0].count: must be a whole number from 1 to 512, not \"(a TOML date or "
       "time)\""},
  };
  for (const auto& c : cases) {
    auto r = ParseGroupFile(c.file, c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(r.status().message().rfind(c.message, 0), 0u)
        << "for " << c.text << "\n  got: " << r.status().message() << "\n  want: " << c.message;
  }
  EXPECT_EQ(ReadGroupFile("/nonexistent/group.toml").status().message(),
            "/nonexistent/group.toml: cannot open the group file");
}

}  // namespace
}  // namespace slate::launch
