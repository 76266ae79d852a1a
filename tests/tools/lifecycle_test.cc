// slate-launch as a service: start, submit, status, scale, logs, stop; and
// two groups side by side.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "e2e/group_fixture.h"

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

// Requests waiting for the group start most urgent first: a request
// submitted with a higher --priority goes before one submitted earlier,
// once the request that had begun is done.
TEST_F(LifecycleTest, AnUrgentRequestStartsBeforeAnEarlierOne) {
  ASSERT_EQ(Cmd(pool, {"start", "--workers", "1", "--handler", "sleep"}).exit_code, 0);
  std::vector<json> slow(4, {{"payload", {{"ms", 150}}}});
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
