// Crash-point sweep (ctest label "crash"): every worker of a real group
// SIGKILLs itself at one named step of claiming, executing or completing a
// task -- on its (skip+1)-th pass, again after each restart -- and every
// task must still end with exactly one result.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "e2e/group_fixture.h"

namespace slate::testing {
namespace {

struct SweepCase {
  const char* point;
  int skip;
};

class CrashSweepTest : public GroupTest, public ::testing::WithParamInterface<SweepCase> {};

TEST_P(CrashSweepTest, EveryTaskEndsWithExactlyOneResult) {
  const SweepCase c = GetParam();
  std::vector<json> tasks;
  for (int i = 0; i < 60; ++i) tasks.push_back({{"payload", i}});
  const std::string input = Jsonl("sweep.jsonl", tasks);
  // Inherited by the whole group; only workers pass these points.
  setenv("SLATE_CRASH_POINT", (std::string(c.point) + ":" + std::to_string(c.skip)).c_str(), 1);
  json out;
  const auto r = Launch({"--workers", "3", "--keep", "--max-retries", "50", "--max-restarts",
                         "1000", "--lease-ms", "2000", input},
                        &out);
  unsetenv("SLATE_CRASH_POINT");
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0);
  EXPECT_NE(r.err.find("killed by signal 9; restarting it"), std::string::npos)
      << "the crash point was never reached";
  ASSERT_EQ(out["tasks"].size(), 60u);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(out["tasks"][i]["status"], "done");
    EXPECT_EQ(out["tasks"][i]["result"], i);
  }
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok());
  const auto per_task = ResultsPerTask(**kept);
  EXPECT_EQ(per_task.size(), 60u);
  for (const auto& [task, n] : per_task) EXPECT_EQ(n, 1) << "task " << task;
  EXPECT_TRUE((*kept)->Check().empty());
  kept->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
}

INSTANTIATE_TEST_SUITE_P(
    WorkerSteps, CrashSweepTest,
    ::testing::Values(SweepCase{"worker.after_claim", 2}, SweepCase{"worker.after_claim", 5},
                      SweepCase{"claim.after_commit", 2}, SweepCase{"claim.after_commit", 5},
                      SweepCase{"worker.after_execute", 2}, SweepCase{"worker.after_execute", 5},
                      SweepCase{"complete.before_commit", 2},
                      SweepCase{"complete.before_commit", 5},
                      SweepCase{"complete.after_commit", 2}, SweepCase{"complete.after_commit", 5},
                      SweepCase{"worker.after_report", 2}, SweepCase{"worker.after_report", 5}),
    [](const auto& p) {
      std::string n = std::string(p.param.point) + "_skip" + std::to_string(p.param.skip);
      for (char& ch : n)
        if (ch == '.') ch = '_';
      return n;
    });

}  // namespace
}  // namespace slate::testing
