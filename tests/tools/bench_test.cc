// slate-bench as a script uses it: a short run with --json. Checks the
// shape of the report and that every workload measured something; never
// how fast (timings are the bench's business, not a test's).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "e2e/run_command.h"
#include "slate/pool.h"

namespace slate {
namespace {

using testing::RunCommand;

TEST(BenchTest, ShortJsonRunReportsEveryRequiredField) {
  const std::string input = testing::SourceDir() + "/examples/docs";
  const auto r = RunCommand({"slate-bench", "--seconds", "3", "--json", "--tasks", "2000",
                             "--workers", "1,2", "--large", "4000", "--pool-prefix", "bt-json",
                             "--only", "throughput,latency,scaling,memory,job",
                             "--job-input", input, "--job-serve",
                             "python3 " + testing::SourceDir() +
                                 "/examples/agents/keywords.py --serve"},
                            120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["throughput"].size(), 2u);
  for (const auto& t : j["throughput"]) {
    EXPECT_GT(t["tasks_per_s"].get<double>(), 0);
    EXPECT_GT(t["baseline_tasks_per_s"].get<double>(), 0);
    EXPECT_GT(t["futex_rings_tasks_per_s"].get<double>(), 0);
  }
  EXPECT_EQ(j["throughput"][1]["workers"], 2);
  EXPECT_EQ(j["assign"], "tasks");
  const auto& l = j["latency"];
  for (const char* f : {"p50_us", "p99_us", "p999_us", "baseline_p50_us"})
    EXPECT_GT(l[f].get<double>(), 0) << f;
  EXPECT_LE(l["p50_us"].get<double>(), l["p99_us"].get<double>());
  EXPECT_LE(l["p99_us"].get<double>(), l["p999_us"].get<double>());
  EXPECT_GT(j["scaling"]["claim_us_large"].get<double>(), 0);
  EXPECT_GT(j["scaling"]["query_us_small"].get<double>(), 0);
  EXPECT_GT(j["memory"]["entry_overhead_bytes"].get<double>(), 0);
  EXPECT_EQ(j["job"]["exit_code"], 0);
  EXPECT_EQ(j["job"]["tasks"], 24);
  EXPECT_GT(j["job"]["work_ms"].get<double>(), 0);
  EXPECT_TRUE(j["notes"].empty()) << j["notes"].dump();
  // The bench cleans up after itself.
  EXPECT_EQ(RunCommand({"/bin/sh", "-c", "ls /dev/shm | grep -c '^slate.bt-json-' || true"}).out,
            "0\n");
}

TEST(BenchTest, LockProfileSplitsTheLockByOperation) {
  const auto r = RunCommand({"slate-bench", "--seconds", "2", "--json", "--tasks", "2000",
                             "--workers", "2", "--only", "throughput", "--lock-profile",
                             "--pool-prefix", "bt-lock"},
                            60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["throughput"].size(), 1u);
  const auto& lock = j["throughput"][0]["lock"];
  EXPECT_GT(lock["held_fraction"].get<double>(), 0);
  // Every task is posted, claimed, completed and read under the lock.
  for (const char* op : {"post", "claim", "complete", "read"})
    EXPECT_GT(lock["hold_us_per_task"][op].get<double>(), 0) << op;
  EXPECT_GE(lock["wait_us_per_task"].get<double>(), 0);
  // Batches: a hold posts at most --post-batch tasks, claims and completes
  // at most --batch, and the protocol's batches are more than one.
  const auto& per_hold = lock["tasks_per_hold"];
  EXPECT_GT(per_hold["post"].get<double>(), 1);
  EXPECT_LE(per_hold["post"].get<double>(), 256);
  for (const char* op : {"claim", "complete"}) {
    EXPECT_GE(per_hold[op].get<double>(), 1) << op;
    EXPECT_LE(per_hold[op].get<double>(), 64) << op;
  }
  EXPECT_GT(per_hold["read"].get<double>(), 0);
  // Without the flag there is no profile.
  const auto plain = RunCommand({"slate-bench", "--seconds", "2", "--json", "--tasks", "2000",
                                 "--workers", "1", "--only", "throughput", "--pool-prefix",
                                 "bt-lock"},
                                60000);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(nlohmann::json::parse(plain.out)["throughput"][0].contains("lock"));
}

// --peers times Python's multiprocessing.Pool over the same tasks, in the
// same run, beside each worker count.
TEST(BenchTest, PeersAddThePythonPoolToEachWorkerCount) {
  const auto r = RunCommand({"slate-bench", "--seconds", "2", "--json", "--tasks", "2000",
                             "--workers", "1,2", "--only", "throughput", "--peers",
                             "--pool-prefix", "bt-peers"},
                            60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["throughput"].size(), 2u);
  for (const auto& row : j["throughput"]) {
    ASSERT_TRUE(row.contains("python_pool_tasks_per_s")) << row.dump();
    EXPECT_GT(row["python_pool_tasks_per_s"].get<double>(), 0);
    EXPECT_NEAR(row["python_pool_ratio"].get<double>(),
                row["tasks_per_s"].get<double>() / row["python_pool_tasks_per_s"].get<double>(),
                1e-6);
  }
  const auto table = RunCommand({"slate-bench", "--seconds", "2", "--tasks", "2000", "--workers",
                                 "1", "--only", "throughput", "--peers", "--pool-prefix",
                                 "bt-peers"},
                                60000);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Python Pool/s"), std::string::npos) << table.out;
}

// Every task of a round is done exactly once whichever way the batches
// are spread (the producer reads each result back, or the round fails).
TEST(BenchTest, BlocksAssignEachPostBatchInOneRunPerWorker) {
  const auto r = RunCommand({"slate-bench", "--seconds", "2", "--json", "--tasks", "3000",
                             "--workers", "3", "--assign", "blocks", "--only", "throughput",
                             "--pool-prefix", "bt-blocks"},
                            120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["assign"], "blocks");
  ASSERT_EQ(j["throughput"].size(), 1u);
  EXPECT_GT(j["throughput"][0]["tasks_per_s"].get<double>(), 0);
  EXPECT_TRUE(j["notes"].empty()) << j["notes"].dump();
}

TEST(BenchTest, IdleWorkloadMeasuresAGroupAndStopsIt) {
  const auto r = RunCommand({"slate-bench", "--seconds", "5", "--json", "--only", "idle",
                             "--pool-prefix", "bt-idle"},
                            60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["idle"]["processes"], 7);  // 4 workers, supervisor, coordinator, keeper
  EXPECT_GE(j["idle"]["cpu_percent_of_core"].get<double>(), 0);
  EXPECT_EQ(RunCommand({"/bin/sh", "-c", "ls /dev/shm | grep -c '^slate.bt-idle-' || true"}).out,
            "0\n");
}

TEST(BenchTest, BadUsageExitsTwoWithAReason) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"slate-bench", "--seconds", "0"},
           {"slate-bench", "--workers", "0"},
           {"slate-bench", "--workers", "two"},
           {"slate-bench", "--only", "everything"},
           {"slate-bench", "--batch", "-1"},
           {"slate-bench", "--pool-prefix", "a/b"},
           {"slate-bench", "--assign", "random"},
           {"slate-bench", "--no-such-flag"}}) {
    const auto r = RunCommand(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_NE(r.err.find("slate-bench: "), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace slate
