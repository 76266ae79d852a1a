// The fixture of the end-to-end tests: a unique pool name per test, and the
// promise that nothing (no pool, no process) outlives the test.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "run_command.h"
#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate::testing {

using nlohmann::json;

class GroupTest : public ::testing::Test {
 protected:
  void SetUp() override { pool = UniquePoolName("e2e"); }
  void TearDown() override {
    EXPECT_FALSE(PoolExists(pool)) << "pool left behind";
    // Processes that are exiting (a tmux server after its last session)
    // get a moment; anything still there after it is a leak.
    for (int i = 0; i < 60 && !ProcessesMentioning(pool).empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(ProcessesMentioning(pool).empty()) << "group members left behind";
    (void)Pool::Remove(pool);
  }
  // slate-launch run ... with this test's pool; parses stdout as JSON.
  CommandResult Launch(std::vector<std::string> args, json* out = nullptr,
                       int timeout_ms = 120000) {
    args.insert(args.begin(), {"slate-launch", "run", "--pool", pool});
    CommandResult r = RunCommand(args, timeout_ms);
    if (out != nullptr) *out = json::parse(r.out, nullptr, false);
    return r;
  }
  std::string Jsonl(const std::string& name, const std::vector<json>& tasks) {
    std::string text;
    for (const auto& t : tasks) text += t.dump() + "\n";
    return WriteTempFile(name, text);
  }
  std::string pool;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A result document's tasks by their line id.
inline std::map<std::string, json> ById(const json& out) {
  std::map<std::string, json> m;
  for (const auto& t : out["tasks"]) m[t["id"].get<std::string>()] = t;
  return m;
}

// Polls until pred holds or the time is up; false on timeout.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Starts a member of a hand-made group (the test owns the pool).
inline pid_t StartMember(const std::string& pool, std::vector<std::string> args) {
  args.insert(args.begin() + 1, {"--pool", pool});
  return StartCommand(args);
}

// n workers with the built-in sleep handler, named w0, w1, ...
inline std::vector<pid_t> StartSleepWorkers(const std::string& pool, int n) {
  std::vector<pid_t> workers;
  for (int i = 0; i < n; ++i)
    workers.push_back(StartCommand({"slate-worker", "--pool", pool, "--handler", "sleep",
                                    "--name", "w" + std::to_string(i)}));
  return workers;
}

}  // namespace slate::testing
