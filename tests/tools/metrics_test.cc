// slate-coordinator --metrics, scraped with curl while a group runs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "e2e/group_fixture.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

uint16_t FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

double Metric(const std::string& text, const std::string& name) {
  std::smatch m;
  const std::regex re("(^|\\n)" + std::regex_replace(name, std::regex(R"([{}"+.])"), R"(\$&)") +
                      " ([0-9.e+]+)");
  return std::regex_search(text, m, re) ? std::stod(m[2]) : -1;
}

TEST_F(GroupTest, MetricsRiseDuringARunAndMatchTheResult) {
  auto created = Pool::Create({.name = pool});
  ASSERT_TRUE(created.ok());
  const std::string port = std::to_string(FreeLoopbackPort());
  const pid_t coordinator = StartMember(pool, {"slate-coordinator", "--interval-ms", "100",
                                               "--metrics", "127.0.0.1:" + port});
  std::vector<pid_t> workers;
  for (int i = 0; i < 2; ++i)
    workers.push_back(StartMember(pool, {"slate-worker", "--handler", "sleep"}));
  std::vector<json> tasks(30, {{"payload", {{"ms", 40}}}});
  tasks.push_back({{"payload", {{"message", "no"}}}, {"max_retries", 0}});  // sleep refuses it
  std::thread run([&] {
    const auto r = RunCommand({"slate-supervisor", "--pool", pool, "--wait-workers", "2",
                               Jsonl("m.jsonl", tasks)});
    EXPECT_EQ(r.exit_code, 3) << r.err;
  });
  const std::string url = "http://127.0.0.1:" + port + "/metrics";
  std::this_thread::sleep_for(400ms);
  const auto early = RunCommand({"curl", "-s", "--max-time", "5", url});
  run.join();
  std::this_thread::sleep_for(400ms);  // a coordinator tick after the end
  const auto late = RunCommand({"curl", "-s", "--max-time", "5", url});
  const auto missing = RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                   "--max-time", "5", "http://127.0.0.1:" + port + "/other"});
  for (pid_t p : workers) kill(p, SIGTERM);
  kill(coordinator, SIGTERM);
  for (pid_t p : workers) WaitCommand(p, 10000);
  EXPECT_EQ(WaitCommand(coordinator, 10000), 0);
  created->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());

  ASSERT_EQ(early.exit_code, 0);
  ASSERT_EQ(late.exit_code, 0);
  EXPECT_NE(late.out.find("# TYPE slate_task_completions_total counter"), std::string::npos);
  const double early_done = Metric(early.out, "slate_task_completions_total");
  const double late_done = Metric(late.out, "slate_task_completions_total");
  EXPECT_GE(early_done, 0);
  EXPECT_LT(early_done, 30) << "scraped before the end";
  EXPECT_EQ(late_done, 30) << late.out;
  EXPECT_EQ(Metric(late.out, "slate_tasks{state=\"done\"}"), 30);
  EXPECT_EQ(Metric(late.out, "slate_tasks{state=\"dead_lettered\"}"), 1);
  EXPECT_EQ(Metric(late.out, "slate_task_failures_total"), 1);
  EXPECT_EQ(Metric(late.out, "slate_task_latency_seconds_count"), 30);
  EXPECT_EQ(Metric(late.out, "slate_task_latency_seconds_bucket{le=\"+Inf\"}"), 30);
  EXPECT_EQ(Metric(late.out, "slate_workers_alive"), 2);
  EXPECT_GT(Metric(late.out, "slate_pool_bytes_used"), 0);
  EXPECT_EQ(missing.out, "404");
}

TEST(MetricsFlagTest, BadAddressIsAUsageError) {
  const auto r = RunCommand({"slate-coordinator", "--pool", "none", "--metrics", "localhost:x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not HOST:PORT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace slate::testing
