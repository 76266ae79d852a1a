// Long-lived commands (--serve) in a real group: every way a command's
// answer goes wrong is one failed attempt, and the group carries on.
#include "group_fixture.h"

namespace slate::testing {
namespace {

TEST_F(GroupTest, AServedCommandThatCrashesHangsOrBabblesFailsOnlyThatTask) {
  const std::string agent = WriteTempFile("agent.py", R"(import json, os, sys, time
for line in sys.stdin:
    t = json.loads(line)
    if t == "crash":
        os._exit(9)
    if t == "hang":
        time.sleep(60)
    if t == "babble":
        print("no json here", flush=True)
        continue
    if t == "huge":
        print(json.dumps("x" * 600000), flush=True)
        continue
    print(json.dumps({"twice": t * 2}), flush=True)
)");
  std::vector<json> lines;
  for (int i = 0; i < 12; ++i) lines.push_back({{"id", "n" + std::to_string(i)}, {"payload", i}});
  for (const char* bad : {"crash", "hang", "babble", "huge"})
    lines.push_back({{"id", bad}, {"payload", bad}});
  lines[13]["timeout_ms"] = 500;  // the hang
  for (int i = 12; i < 24; ++i) lines.push_back({{"id", "n" + std::to_string(i)}, {"payload", i}});
  json out;
  const auto r = Launch({"--workers", "2", "--max-retries", "0", "--serve", "python3 " + agent,
                         "--supervisor-arg=--backoff-base-ms=10", Jsonl("serve.jsonl", lines)},
                        &out);
  // Partial: the four bad lines are dead-lettered, each with its reason.
  ASSERT_EQ(r.exit_code, 3) << r.err;
  auto tasks = ById(out);
  for (int i = 0; i < 24; ++i) {
    const json& t = tasks["n" + std::to_string(i)];
    EXPECT_EQ(t["status"], "done") << t.dump();
    EXPECT_EQ(t["result"]["twice"], 2 * i);
  }
  const std::map<std::string, std::string> why = {
      {"crash", "the command exited with code 9 before it answered"},
      {"hang", "timed out after 500 ms"},
      {"babble", "not a JSON line: no json here"},
      {"huge", "the answer is longer than 524288 bytes"}};
  for (const auto& [id, reason] : why) {
    const json& t = tasks[id];
    EXPECT_EQ(t["status"], "dead_lettered") << t.dump();
    EXPECT_NE(t.dump().find(reason), std::string::npos) << id << ": " << t.dump();
  }
}

}  // namespace
}  // namespace slate::testing
