// Bad input, table-driven, for every program: unknown flag, missing value,
// wrong type, out of range, bad pool name, and bad requests (empty, binary,
// a huge payload, a 100 MB line). Each row: the documented exit status, a
// message that names the problem, and nothing started: no pool left, no
// process left. docs/SECURITY.md lists the same table.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "e2e/group_fixture.h"

namespace slate::testing {
namespace {

// The request file a row names ("@EMPTY", ...), written when the row runs.
std::string MakeInput(const std::string& key) {
  const std::string path = "/tmp/slate-e2e-" + std::to_string(getpid()) + "-" + key.substr(1);
  std::ofstream out(path, std::ios::binary);
  if (key == "@GARBAGE") {
    uint32_t x = 12345;
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((x = x * 1103515245 + 12345) >> 16));
  } else if (key == "@HUGE") {
    out << "{\"payload\": \"" << std::string(2 << 20, 'h') << "\"}\n";
  } else if (key == "@LONG") {  // one line of 100 MB
    out << "{\"payload\": \"";
    const std::string chunk(1 << 20, 'y');
    for (int i = 0; i < 100; ++i) out << chunk;
    out << "\"}\n";
  } else if (key == "@GOOD") {
    out << "{\"payload\": 1}\n";
  } else if (key == "@DEEP") {  // a group file: four levels of supervisors
    out << R"({"workers": [{}], "children": [{"capability": "a", "workers": [{}], "children": [
             {"capability": "b", "workers": [{}], "children": [
             {"capability": "c", "workers": [{}]}]}]}]})";
  } else if (key == "@TYPO") {  // a group file with a misspelt key
    out << R"({"workers": [{"count": 2, "hadler": "echo"}]})";
  }  // "@EMPTY": nothing
  return path;
}

struct Case {
  std::string name;
  std::vector<std::string> argv;  // "@POOL": the test's pool; "@EMPTY"...: a request file
  int exit_code;
  std::string message;  // must appear in stderr
};

std::vector<Case> Table() {
  struct {
    std::string empty = "@EMPTY", garbage = "@GARBAGE", huge_payload = "@HUGE",
                long_line = "@LONG", good = "@GOOD", deep_group = "@DEEP", typo_group = "@TYPO";
  } f;
  return {
      // slate-launch
      {"launch_no_command", {"slate-launch"}, 2, "a command is needed"},
      {"launch_unknown_command", {"slate-launch", "frobnicate"}, 2, "unknown command 'frobnicate'"},
      {"launch_exec_and_serve",
       {"slate-launch", "run", "--pool", "@POOL", "--exec", "cat", "--serve", "cat", f.good}, 2,
       "give --exec (a process per task) or --serve (one kept alive), not both"},
      {"launch_supervisor_arg_clash",
       {"slate-launch", "run", "--pool", "@POOL", "--supervisor-arg=--no-worker-timeout-ms=300",
        f.good},
       2, "passes --no-worker-timeout-ms to slate-supervisor itself"},
      {"start_supervisor_arg_clash",
       {"slate-launch", "start", "--pool", "@POOL", "--supervisor-arg", "--max-retries"}, 2,
       "passes --max-retries to slate-supervisor itself"},
      {"launch_unknown_flag", {"slate-launch", "run", "--pool", "@POOL", "--bogus", f.good}, 2,
       "unrecognised option '--bogus'"},
      {"launch_missing_value", {"slate-launch", "run", "--pool", "@POOL", f.good, "--workers"}, 2,
       "required argument for option '--workers' is missing"},
      {"launch_wrong_type", {"slate-launch", "run", "--pool", "@POOL", "--workers", "many", f.good},
       2, "('many') for option '--workers' is invalid"},
      {"launch_out_of_range", {"slate-launch", "run", "--pool", "@POOL", "--workers", "0", f.good},
       2, "1 to 512 workers"},
      {"launch_on_exhausted",
       {"slate-launch", "run", "--pool", "@POOL", "--on-exhausted", "retry", f.good}, 2,
       "unknown on_exhausted 'retry' (known: dead-letter, review, fail-request)"},
      {"launch_max_iterations",
       {"slate-launch", "run", "--pool", "@POOL", "--max-iterations", "0", f.good}, 2,
       "--max-iterations"},
      {"launch_bad_validator",
       {"slate-launch", "run", "--pool", "@POOL", "--validate", "check 'oops", f.good}, 2,
       "--validate: command line has an unterminated ' quote"},
      {"review_unknown_action", {"slate-launch", "review", "--pool", "@POOL", "approve"}, 2,
       "unknown action 'approve'"},
      {"supervisor_on_exhausted",
       {"slate-supervisor", "--pool", "@POOL", "--on-exhausted", "x", f.good}, 2,
       "unknown on_exhausted 'x'"},
      {"launch_negative", {"slate-launch", "run", "--pool", "@POOL", "--max-retries", "-1", f.good},
       2, "must not be negative"},
      {"launch_range", {"slate-launch", "run", "--pool", "@POOL", "--lease-ms", "5", f.good}, 2,
       "--lease-ms must be in [100, 86400000]"},
      {"launch_bad_pool", {"slate-launch", "run", "--pool", "../etc", f.good}, 2,
       "pool name '../etc' must be"},
      {"launch_missing_input", {"slate-launch", "run", "--pool", "@POOL", "/nonexistent.jsonl"}, 2,
       "no such file"},
      {"launch_empty_input", {"slate-launch", "run", "--pool", "@POOL", f.empty}, 2,
       "holds no tasks"},
      {"launch_binary_input", {"slate-launch", "run", "--pool", "@POOL", f.garbage}, 2,
       ":1: not valid JSON"},
      {"launch_huge_payload", {"slate-launch", "run", "--pool", "@POOL", f.huge_payload}, 2,
       "a task carries at most 1048576"},
      {"launch_100mb_line", {"slate-launch", "run", "--pool", "@POOL", f.long_line}, 2,
       ":1: line is longer than 16 MiB"},
      {"launch_group_missing", {"slate-launch", "run", "--pool", "@POOL", "--group",
                                "/nonexistent.toml", f.good}, 2,
       "/nonexistent.toml: cannot open the group file"},
      {"launch_group_too_deep", {"slate-launch", "run", "--pool", "@POOL", "--group",
                                 f.deep_group, f.good}, 2,
       "the tree is 4 levels of supervisors deep (top > a > b > c); slate runs at most 3"},
      {"launch_group_typo", {"slate-launch", "start", "--pool", "@POOL", "--group",
                             f.typo_group}, 2,
       "workers[0].hadler: unknown key"},
      {"launch_group_and_workers", {"slate-launch", "run", "--pool", "@POOL", "--group",
                                    f.typo_group, "--workers", "3", f.good}, 2,
       "describes the workers and supervisors; drop --workers"},
      {"launch_supervisors_range", {"slate-launch", "run", "--pool", "@POOL", "--supervisors",
                                    "4", f.good}, 2,
       "--supervisors must be in [1, 3]"},
      {"launch_bad_split", {"slate-launch", "run", "--pool", "@POOL", "--split", "xml", f.good}, 2,
       "unknown split 'xml'"},
      {"launch_slots_too_few",
       {"slate-launch", "run", "--pool", "@POOL", "--slots", "10", f.good}, 2,
       "--slots 10 is too few for"},
      {"launch_exec_missing_program",
       {"slate-launch", "run", "--pool", "@POOL", "--exec", "no-such-program-x --flag", f.good}, 2,
       "--exec: no program 'no-such-program-x' in PATH"},
      {"launch_serve_missing_path",
       {"slate-launch", "start", "--pool", "@POOL", "--serve", "/nonexistent/agent.py"}, 2,
       "--serve: cannot run '/nonexistent/agent.py': No such file or directory"},
      {"launch_validate_missing_program",
       {"slate-launch", "run", "--pool", "@POOL", "--validate", "no-such-validator", f.good}, 2,
       "--validate: no program 'no-such-validator' in PATH"},
      {"launch_start_negative", {"slate-launch", "start", "--pool", "@POOL", "--slots", "-5"}, 2,
       "must not be negative"},
      {"launch_submit_no_group", {"slate-launch", "submit", "--pool", "@POOL", f.good}, 2,
       "no group is running"},
      {"launch_scale_wrong_type", {"slate-launch", "scale", "--pool", "@POOL", "lots"}, 2,
       "('lots') for option '--workers' is invalid"},
      {"launch_stop_bad_pool", {"slate-launch", "stop", "--pool", "a b"}, 2, "pool name 'a b'"},
      // slate-supervisor
      {"supervisor_unknown_flag", {"slate-supervisor", "--pool", "@POOL", "--nope"}, 2,
       "unrecognised option '--nope'"},
      {"supervisor_negative", {"slate-supervisor", "--pool", "@POOL", "--max-retries", "-1"}, 2,
       "must not be negative"},
      {"supervisor_range", {"slate-supervisor", "--pool", "@POOL", "--max-pending", "0"}, 2,
       "--max-pending must be in [1, 1024]"},
      {"supervisor_bad_pool", {"slate-supervisor", "--pool", "x/y"}, 2, "pool name 'x/y'"},
      {"supervisor_no_pool", {"slate-supervisor", "--pool", "@POOL", f.good}, 1, "no such pool"},
      {"supervisor_team_with_input", {"slate-supervisor", "--pool", "@POOL", "--team", "b", f.good},
       2, "--team: a sub-supervisor reads no INPUT: its tasks come from its parent"},
      {"supervisor_team_too_long",
       {"slate-supervisor", "--pool", "@POOL", "--team", std::string(28, 't')}, 2,
       "is longer than 27 characters"},
      {"supervisor_decompose_alone", {"slate-supervisor", "--pool", "@POOL", "--decompose", "x"},
       2, "--parent-team, --name, --decompose and --synthesize need --team"},
      // slate-worker
      {"worker_exec_and_serve", {"slate-worker", "--pool", "@POOL", "--exec", "cat", "--serve", "cat"},
       2, "give --exec (a process per task) or --serve (one kept alive), not both"},
      {"worker_unknown_flag", {"slate-worker", "--pool", "@POOL", "--nope"}, 2,
       "unrecognised option '--nope'"},
      {"worker_missing_value", {"slate-worker", "--pool", "@POOL", "--lease-ms"}, 2,
       "required argument for option '--lease-ms' is missing"},
      {"worker_wrong_type", {"slate-worker", "--pool", "@POOL", "--lease-ms", "soon"}, 2,
       "('soon') for option '--lease-ms' is invalid"},
      {"worker_range", {"slate-worker", "--pool", "@POOL", "--lease-ms", "0"}, 2,
       "--lease-ms must be in [100, 86400000]"},
      {"worker_bad_handler", {"slate-worker", "--pool", "@POOL", "--handler", "nope"}, 2,
       "unknown handler 'nope'"},
      {"worker_bad_pool", {"slate-worker", "--pool", ""}, 2, "pool name ''"},
      // slate-coordinator
      {"coordinator_unknown_flag", {"slate-coordinator", "--pool", "@POOL", "--nope"}, 2,
       "unrecognised option '--nope'"},
      {"coordinator_range", {"slate-coordinator", "--pool", "@POOL", "--interval-ms", "0"}, 2,
       "--interval-ms must be in [10, 3600000]"},
      {"coordinator_bad_metrics", {"slate-coordinator", "--pool", "@POOL", "--metrics", "99999"}, 2,
       "is not HOST:PORT"},
      // slate-monitor
      {"monitor_unknown_flag", {"slate-monitor", "--pool", "@POOL", "--nope"}, 2,
       "unrecognised option '--nope'"},
      {"monitor_range", {"slate-monitor", "--pool", "@POOL", "--refresh-ms", "1"}, 2,
       "--refresh-ms must be at least 20"},
      {"monitor_no_pool", {"slate-monitor", "--pool", "@POOL", "--once"}, 1, "no such pool"},
      // slate-dump
      {"dump_unknown_flag", {"slate-dump", "--pool", "@POOL", "--nope"}, 2,
       "unrecognised option '--nope'"},
      {"dump_negative", {"slate-dump", "--pool", "@POOL", "--limit", "-5"}, 2,
       "must not be negative"},
      {"dump_wrong_type", {"slate-dump", "--pool", "@POOL", "--since", "yesterday"}, 2,
       "('yesterday') for option '--since' is invalid"},
      {"dump_range", {"slate-dump", "--pool", "@POOL", "--min-importance", "2"}, 2,
       "--min-importance must be in [0, 1]"},
      {"dump_bad_pool", {"slate-dump", "--pool", "a/b"}, 2, "pool name 'a/b'"},
      {"dump_no_pool", {"slate-dump", "--pool", "@POOL"}, 1, "no such pool"},
      // slate-bench
      {"bench_unknown_flag", {"slate-bench", "--nope"}, 2, "--nope"},
      {"bench_wrong_type", {"slate-bench", "--seconds", "long"}, 2, "--seconds"},
  };
}

// gtest prints a failing row by name, not as bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class BadInputTest : public GroupTest, public ::testing::WithParamInterface<Case> {};

TEST_P(BadInputTest, ClearMessageDocumentedExitNothingStarted) {
  const Case& c = GetParam();
  std::vector<std::string> argv = c.argv;
  std::vector<std::string> files;
  for (auto& a : argv) {
    if (a == "@POOL") a = pool;
    else if (a.starts_with("@")) files.push_back(a = MakeInput(a));
  }
  const CommandResult r = RunCommand(argv, 30000);
  for (const auto& f : files) std::remove(f.c_str());
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << "stderr: " << r.err.substr(0, 600);
  EXPECT_TRUE(r.out.empty() || c.argv[0] == "slate-launch") << r.out.substr(0, 300);
  EXPECT_FALSE(PoolExists(pool));  // and GroupTest's TearDown: no process left
}

INSTANTIATE_TEST_SUITE_P(EveryProgram, BadInputTest, ::testing::ValuesIn(Table()),
                         [](const auto& row) { return row.param.name; });

}  // namespace
}  // namespace slate::testing
