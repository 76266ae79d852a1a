// slate-monitor against a live group: --once, --json, and the full-screen
// view driven through tmux.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "e2e/group_fixture.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

class MonitorTest : public GroupTest {
 protected:
  void StartGroup() {
    std::vector<json> tasks(40, {{"payload", {{"ms", 300}}}});
    launcher_ = StartCommand({"slate-launch", "run", "--pool", pool, "--workers", "2",
                              "--handler", "sleep", Jsonl("mon.jsonl", tasks)});
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      auto p = Pool::Open(pool, OpenMode::kReadOnly);
      if (p.ok() && (*p)->Stats()->tasks_by_state[static_cast<int>(TaskState::kRunning)] > 0)
        break;
      std::this_thread::sleep_for(20ms);
    }
    std::this_thread::sleep_for(1200ms);  // a coordinator progress report
  }
  void StopGroup() {
    kill(launcher_, SIGINT);
    EXPECT_EQ(WaitCommand(launcher_, 15000), 130);
  }
  pid_t launcher_ = -1;
};

TEST_F(MonitorTest, OnceAndJsonShowTheRunningGroup) {
  StartGroup();
  const auto once = RunCommand({"slate-monitor", "--pool", pool, "--once"});
  const auto js = RunCommand({"slate-monitor", "--pool", pool, "--json"});
  StopGroup();
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_NE(once.out.find("slate-monitor  pool '" + pool + "'"), std::string::npos) << once.out;
  EXPECT_NE(once.out.find("request "), std::string::npos) << once.out;
  EXPECT_NE(once.out.find("/40 done"), std::string::npos) << once.out;
  EXPECT_NE(once.out.find("WORKER"), std::string::npos);
  EXPECT_NE(once.out.find("worker-1"), std::string::npos);
  EXPECT_NE(once.out.find("SEGMENTS tasks 40"), std::string::npos) << once.out;
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const json j = json::parse(js.out);
  ASSERT_EQ(j["requests"].size(), 1u);
  EXPECT_EQ(j["requests"][0]["total"], 40);
  EXPECT_EQ(j["pool"]["agents"].size(), 4u);  // 2 workers, supervisor, coordinator
  bool some_running = false;
  for (const auto& a : j["pool"]["agents"]) some_running |= !a["current_task"].is_null();
  EXPECT_TRUE(some_running);
}

// A running task's checkpoint shows in the monitor (from the coordinator's
// progress report) and in slate-dump's "checkpoints" segment.
TEST_F(MonitorTest, ACheckpointedTaskShowsInTheMonitorAndTheDump) {
  launcher_ = StartCommand({"slate-launch", "run", "--pool", pool, "--workers", "1", "--handler",
                            "sleep", Jsonl("cp.jsonl", {{{"payload", {{"ms", 4000}}}}})});
  std::string once;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (once.find("1 checkpointed") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
    once = RunCommand({"slate-monitor", "--pool", pool, "--once"}).out;
  }
  const auto dump = RunCommand({"slate-dump", "--pool", pool, "--segment", "checkpoints",
                                "--format", "jsonl"});
  StopGroup();
  EXPECT_NE(once.find("1 checkpointed"), std::string::npos) << once;
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  const json line = json::parse(dump.out.substr(0, dump.out.find('\n')), nullptr, false);
  ASSERT_TRUE(line.is_object()) << dump.out;
  EXPECT_GT(line["payload"]["slept_ms"].get<int64_t>(), 0) << dump.out;
}

TEST_F(MonitorTest, FullScreenViewInTmuxShowsProgressAndQuitsOnQ) {
  StartGroup();
  const std::string session = "mon" + std::to_string(getpid());
  ASSERT_EQ(RunCommand({"tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                        BinDir() + "/slate-monitor --pool " + pool})
                .exit_code,
            0);
  std::this_thread::sleep_for(1500ms);
  const auto screen = RunCommand({"tmux", "capture-pane", "-p", "-t", session});
  RunCommand({"tmux", "send-keys", "-t", session, "q"});
  bool ended = false;
  for (int i = 0; i < 60 && !ended; ++i) {
    ended = RunCommand({"tmux", "has-session", "-t", session}).exit_code != 0;
    std::this_thread::sleep_for(50ms);
  }
  if (!ended) RunCommand({"tmux", "kill-session", "-t", session});
  StopGroup();
  EXPECT_NE(screen.out.find("slate-monitor  pool '" + pool + "'"), std::string::npos)
      << screen.out;
  EXPECT_NE(screen.out.find("[#"), std::string::npos) << "progress bar\n" << screen.out;
  EXPECT_NE(screen.out.find("WORKER"), std::string::npos) << screen.out;
  EXPECT_NE(screen.out.find("worker-2"), std::string::npos) << screen.out;
  EXPECT_TRUE(ended) << "q did not quit";
}

TEST_F(MonitorTest, LiveViewLeavesWhenThePoolGoesAway) {
  auto created = Pool::Create({.name = pool});
  ASSERT_TRUE(created.ok());
  const std::string session = "gone" + std::to_string(getpid());
  const std::string log = WriteTempFile("gone.err", "");
  ASSERT_EQ(RunCommand({"tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                        BinDir() + "/slate-monitor --pool " + pool + " 2>" + log})
                .exit_code,
            0);
  std::this_thread::sleep_for(700ms);
  const auto screen = RunCommand({"tmux", "capture-pane", "-p", "-t", session});
  EXPECT_NE(screen.out.find("no active request"), std::string::npos) << screen.out;
  created->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
  bool ended = false;
  for (int i = 0; i < 60 && !ended; ++i) {
    ended = RunCommand({"tmux", "has-session", "-t", session}).exit_code != 0;
    std::this_thread::sleep_for(50ms);
  }
  if (!ended) RunCommand({"tmux", "kill-session", "-t", session});
  EXPECT_TRUE(ended) << "the monitor kept running without its pool";
  std::ifstream in(log);
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("pool '" + pool + "' went away"), std::string::npos) << err;
}

TEST_F(MonitorTest, MissingPoolIsAClearError) {
  const auto r = RunCommand({"slate-monitor", "--pool", pool, "--once"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such pool"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace slate::testing
