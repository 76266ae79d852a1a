// End-to-end validate-and-iterate, review and fail-request: real groups,
// real validator processes, a person played by slate-launch review.
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "group_fixture.h"
#include "run_command.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

// The agent answers with its iteration, the context it saw and the
// feedback rounds it was given (texts and the results they rejected).
const char* kAgent = R"(import json, sys
env = json.load(sys.stdin)
print(json.dumps({"it": env["iteration"], "payload": env["payload"],
                  "context": env["context"],
                  "rounds": [[r["iteration"], r["feedback"], r.get("result")]
                             for r in env["feedback"]]}))
)";

// Accepts a result at its third iteration; before that, says which round
// it rejects. It checks it was given what the issue promises.
const char* kValidator = R"(import json, sys
env = json.load(sys.stdin)
assert set(env) >= {"id", "payload", "context", "result", "iteration"}, env
assert env["result"]["it"] == env["iteration"]
assert env["result"]["context"] == env["context"]
if env["iteration"] >= 3:
    print(json.dumps({"ok": True}))
else:
    print(json.dumps({"ok": False, "feedback": "round %d rejected" % env["iteration"]}))
)";

class ValidateTest : public GroupTest {
 protected:
  std::string Agent() { return "python3 " + WriteTempFile("agent.py", kAgent); }
  std::string Script(const std::string& name, const std::string& text) {
    return "python3 " + WriteTempFile(name, text);
  }
  CommandResult Review(std::vector<std::string> args) {
    args.insert(args.begin(), {"slate-launch", "review", "--pool", pool});
    return RunCommand(args);
  }
  // Waits until `review --json` lists a held task with this line id.
  json WaitHeld(const std::string& id) {
    for (int i = 0; i < 600; ++i) {
      const json held = json::parse(Review({"--json"}).out, nullptr, false);
      if (held.is_array())
        for (const auto& h : held)
          if (h["id"] == id) return h;
      std::this_thread::sleep_for(50ms);
    }
    return nullptr;
  }
};

TEST_F(ValidateTest, AFailedCheckRunsTheLineAgainWithEveryEarlierRound) {
  const std::string input = Jsonl("validate.jsonl", {
      {{"id", "schema"}, {"payload", "s"}, {"validate", false}},
      {{"id", "api"}, {"payload", "a"}, {"depends_on", {"schema"}}},
  });
  json out;
  const auto r = Launch({"--workers", "2", "--exec", Agent(), "--validate",
                         Script("validator.py", kValidator), input},
                        &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = ById(out);
  // "validate": false: accepted as it came.
  EXPECT_EQ(t["schema"]["iterations"], 1);
  EXPECT_EQ(t["schema"]["result"]["it"], 1);
  // The dependent ran three times, each with the rounds before it, and the
  // accepted schema result as context every time.
  const json& api = t["api"];
  EXPECT_EQ(api["status"], "done");
  EXPECT_EQ(api["iterations"], 3);
  EXPECT_EQ(api["result"]["it"], 3);
  EXPECT_EQ(api["result"]["context"]["schema"], t["schema"]["result"]);
  const json& rounds = api["result"]["rounds"];
  ASSERT_EQ(rounds.size(), 2u) << api.dump();
  EXPECT_EQ(rounds[0][0], 1);
  EXPECT_EQ(rounds[0][1], "round 1 rejected");
  EXPECT_EQ(rounds[0][2]["it"], 1) << "the rejected result travels with its feedback";
  EXPECT_EQ(rounds[1][1], "round 2 rejected");
  EXPECT_EQ(rounds[1][2]["it"], 2);
  EXPECT_EQ(api["feedback"], json::parse(R"([{"iteration":1,"feedback":"round 1 rejected"},
                                              {"iteration":2,"feedback":"round 2 rejected"}])"));
}

TEST_F(ValidateTest, RunningOutOfIterationsDeadLettersTheLineAndSkipsItsDependents) {
  const std::string input = Jsonl("out.jsonl", {
      {{"id", "draft"}, {"payload", "d"}},
      {{"id", "publish"}, {"payload", "p"}, {"depends_on", {"draft"}}},
  });
  json out;
  const auto r = Launch({"--workers", "2", "--exec", Agent(), "--validate",
                         Script("validator.py", kValidator), "--max-iterations", "2", input},
                        &out);
  ASSERT_EQ(r.exit_code, 3) << r.err;
  auto t = ById(out);
  EXPECT_EQ(t["draft"]["status"], "dead_lettered");
  EXPECT_EQ(t["draft"]["iterations"], 2);
  EXPECT_EQ(t["draft"]["error"],
            "validation failed after 2 iteration(s); last feedback: round 2 rejected");
  EXPECT_EQ(t["publish"]["status"], "skipped");
  EXPECT_EQ(t["publish"]["iterations"], 0);
}

TEST_F(ValidateTest, AValidatorThatPrintsNoVerdictIsAFailureNeverAPass) {
  for (const char* printed : {"print('looks fine to me')", "import sys; sys.exit(7)",
                                     "print('{\"ok\": false}')"}) {
    SCOPED_TRACE(printed);
    pool = UniquePoolName("e2e");
    json out;
    const auto r = Launch({"--workers", "1", "--exec", Agent(), "--max-retries", "1",
                           "--validate", Script("bad_validator.py", std::string(printed)),
                           Jsonl("one.jsonl", {{{"id", "x"}, {"payload", 1}}})},
                          &out);
    ASSERT_EQ(r.exit_code, 3) << r.err;
    const json& x = out["tasks"][0];
    EXPECT_EQ(x["status"], "dead_lettered");
    const std::string error = x["error"];
    EXPECT_NE(error.find("its validation"), std::string::npos) << error;
    EXPECT_NE(error.find("failed 2 attempt(s)"), std::string::npos) << error;
    EXPECT_TRUE(error.find("the validator printed") != std::string::npos ||
                error.find("exit code 7") != std::string::npos)
        << error;
    EXPECT_FALSE(PoolExists(pool));
  }
}

// A person answers three held lines through the CLI: one accepted, one
// retried with feedback (then passes), one rejected. The request stays
// open until the last answer, across a supervisor killed while it waits.
TEST_F(ValidateTest, AHeldTaskWaitsForAPersonsAcceptRetryOrReject) {
  const std::string validator = Script("picky.py", R"(import json, sys
env = json.load(sys.stdin)
said = [r["feedback"] for r in env["feedback"] if r.get("by") == "review"]
if said == ["use the cache"]:
    print(json.dumps({"ok": True}))
else:
    print(json.dumps({"ok": False, "feedback": "too slow"}))
)");
  const std::string input = Jsonl("review.jsonl", {
      {{"id", "a"}, {"payload", 1}},
      {{"id", "b"}, {"payload", 2}},
      {{"id", "c"}, {"payload", 3}},
      {{"id", "after_a"}, {"payload", 4}, {"depends_on", {"a"}}, {"validate", false}},
      {{"id", "after_c"}, {"payload", 5}, {"depends_on", {"c"}}},
  });
  const std::string out_path = WriteTempFile("review-out.json", "");
  const pid_t run = StartCommandToFile(
      {"slate-launch", "run", "--pool", pool, "--workers", "2", "--exec", Agent(), "--validate",
       validator, "--max-iterations", "1", "--on-exhausted", "review", input},
      out_path);
  const json held_a = WaitHeld("a");
  ASSERT_FALSE(held_a.is_null());
  EXPECT_EQ(held_a["reason"], "validation failed after 1 iteration(s); last feedback: too slow");
  EXPECT_EQ(held_a["last_result"]["it"], 1);
  ASSERT_FALSE(WaitHeld("b").is_null());
  ASSERT_FALSE(WaitHeld("c").is_null());
  const auto dump = RunCommand({"slate-dump", "--pool", pool, "--stats"});
  EXPECT_NE(dump.out.find("held 3"), std::string::npos) << dump.out;
  // Held tasks outlive their supervisor.
  for (pid_t p : ProcessesMentioning(pool))
    if (ReadFile("/proc/" + std::to_string(p) + "/cmdline").find("slate-supervisor") !=
        std::string::npos)
      kill(p, SIGKILL);
  std::this_thread::sleep_for(300ms);
  // Bad answers change nothing.
  EXPECT_EQ(Review({"accept", "a", "--result", "{not json"}).exit_code, 2);
  EXPECT_EQ(Review({"accept", "a"}).exit_code, 2);
  EXPECT_EQ(Review({"accept", "after_a", "--result", "1"}).exit_code, 1);
  const auto ok = Review({"accept", "a", "--result", R"({"by": "hand"})"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(Review({"retry", "b", "--feedback", "use the cache"}).exit_code, 0);
  EXPECT_EQ(Review({"reject", "c", "--feedback", "not needed"}).exit_code, 0);
  ASSERT_EQ(WaitCommand(run, 60000), 3);
  auto t = ById(json::parse(ReadFile(out_path), nullptr, false));
  EXPECT_EQ(t["a"]["status"], "done");
  EXPECT_EQ(t["a"]["result"], json({{"by", "hand"}}));
  EXPECT_FALSE(t["a"].contains("failures")) << "being held is no failed attempt";
  EXPECT_EQ(t["after_a"]["status"], "done");
  EXPECT_EQ(t["after_a"]["result"]["context"]["a"], json({{"by", "hand"}}))
      << "dependents see the person's result";
  EXPECT_EQ(t["b"]["status"], "done");
  EXPECT_EQ(t["b"]["iterations"], 2);
  EXPECT_EQ(t["b"]["result"]["rounds"][1][1], "use the cache");
  EXPECT_EQ(t["c"]["status"], "dead_lettered");
  EXPECT_NE(t["c"]["error"].get<std::string>().find("not needed"), std::string::npos);
  EXPECT_EQ(t["after_c"]["status"], "skipped");
}

TEST_F(ValidateTest, FailRequestStopsEverythingAndNamesTheCause) {
  const std::string marker = WriteTempFile("stopped", "");
  const std::string agent = Script("agent.py", R"(import json, signal, sys, time
env = json.load(sys.stdin)
if env["payload"] == "boom":
    sys.exit("it broke")
if env["payload"] == "slow":
    signal.signal(signal.SIGTERM, lambda *_: (open(")" + marker + R"(", "w").write("stopped"), sys.exit(1)))
    time.sleep(60)
print(json.dumps(env["payload"]))
)");
  const std::string input = Jsonl("fail.jsonl", {
      {{"id", "slow"}, {"payload", "slow"}, {"requires", "s"}},
      {{"id", "boom"}, {"payload", "boom"}, {"on_exhausted", "fail-request"}, {"requires", "b"}},
      {{"id", "next"}, {"payload", "n"}, {"depends_on", {"boom"}}, {"requires", "b"}},
  });
  json out;
  // One worker each: "slow" is running while "boom" fails.
  const auto r = Launch({"--workers", "0", "--worker-group", "1:s", "--worker-group", "1:b",
                         "--exec", agent, "--max-retries", "1", input},
                        &out);
  ASSERT_EQ(r.exit_code, 5) << r.err;
  auto t = ById(out);
  EXPECT_EQ(t["boom"]["status"], "dead_lettered");
  EXPECT_EQ(t["slow"]["status"], "cancelled");
  EXPECT_EQ(t["next"]["status"], "cancelled");
  EXPECT_EQ(out["summary"]["failed_by"]["id"], "boom");
  EXPECT_NE(r.err.find("the request failed at task 1 (boom): failed 2 attempt(s)"),
            std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(marker), "stopped") << "the running task was not stopped";
}

// The example docs/REQUESTS.md shows: keyword extraction per document, merges per
// topic, a report that the validator sends back once for its overview.
TEST_F(ValidateTest, TheExamplePlanRunsAsTheDocsSay) {
  const std::string ex = SourceDir() + "/examples";
  json out;
  const auto r = Launch({"--exec", "python3 " + ex + "/agents/plan_agent.py", "--validate",
                         "python3 " + ex + "/agents/report_validator.py", ex + "/plan.jsonl"},
                        &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = ById(out);
  EXPECT_EQ(out["summary"]["done"], 30);
  EXPECT_EQ(t["topic-sea"]["result"]["documents"],
            json({"08-harbours.txt", "09-lighthouses.txt", "16-sailing.txt"}));
  const json& report = t["report"];
  EXPECT_EQ(report["iterations"], 2);
  EXPECT_EQ(report["feedback"][0]["feedback"], "missing section: Overview");
  std::vector<std::string> headings;
  for (const auto& sct : report["result"]["sections"]) headings.push_back(sct["heading"]);
  EXPECT_EQ(headings, (std::vector<std::string>{"Overview", "crafts", "engineering", "food",
                                                "nature", "sea"}));
  EXPECT_EQ(report["result"]["sections"][0]["text"].get<std::string>().rfind("24 documents", 0),
            0u);
}

}  // namespace
}  // namespace slate::testing
