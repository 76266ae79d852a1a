// When the watch takes a request's failures for every worker failing it
// the same way (fail fast), and when it does not.
#include "health/same_failure_watch.h"

#include <gtest/gtest.h>

namespace slate::supervisor {
namespace {

const std::set<std::string> kBoth = {"w1", "w2"};

TEST(SameFailureWatchTest, EveryWorkerFailingTwoTasksTheSameWayConvinces) {
  SameFailureWatch w;
  EXPECT_FALSE(w.Note(1, 1, "w1", "exit 3")) << "one task is its own problem";
  EXPECT_TRUE(w.Note(2, 1, "w2", "exit 3"));
  EXPECT_FALSE(w.Convinced(kBoth)) << "each worker met it once: a blip is retried";
  EXPECT_TRUE(w.Note(3, 1, "w1", "exit 3"));
  EXPECT_FALSE(w.Convinced(kBoth));
  EXPECT_TRUE(w.Note(4, 1, "w2", "exit 3"));
  EXPECT_TRUE(w.Convinced(kBoth));
  EXPECT_FALSE(w.Convinced({"w1", "w2", "w3"})) << "w3 has not failed it";
  EXPECT_FALSE(w.Convinced({})) << "no worker can take them";
  EXPECT_EQ(w.error(), "exit 3");
  EXPECT_EQ(w.tasks(), 4u);
}

TEST(SameFailureWatchTest, ARetryFailingTheSameWayConvincesSooner) {
  SameFailureWatch w;
  (void)w.Note(1, 1, "w1", "exit 3");
  (void)w.Note(2, 1, "w2", "exit 3");
  EXPECT_TRUE(w.Note(1, 2, "w2", "exit 3"));
  EXPECT_TRUE(w.Convinced(kBoth));
}

TEST(SameFailureWatchTest, ADifferentErrorOrADisarmEndsIt) {
  SameFailureWatch other;
  (void)other.Note(1, 1, "w1", "exit 3");
  EXPECT_FALSE(other.Note(2, 1, "w2", "exit 4"));
  EXPECT_FALSE(other.Note(3, 2, "w1", "exit 3")) << "disarmed for good";
  EXPECT_FALSE(other.Convinced({"w1"}));

  SameFailureWatch succeeded;
  for (TaskId t = 1; t <= 4; ++t) (void)succeeded.Note(t, 2, t % 2 ? "w1" : "w2", "exit 3");
  ASSERT_TRUE(succeeded.Convinced(kBoth));
  succeeded.Disarm();
  EXPECT_FALSE(succeeded.Convinced(kBoth));
  EXPECT_FALSE(succeeded.Note(5, 1, "w1", "exit 3"));
}

}  // namespace
}  // namespace slate::supervisor
