// Aging: a task's urgency is its priority plus one per --age-ms it waited.
#include <gtest/gtest.h>

#include "schedule/urgency.h"

namespace slate::supervisor {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TaskInfo Task(TaskId id, int priority, int64_t created_ns) {
  TaskInfo t;
  t.id = id;
  t.priority = priority;
  t.created_ns = created_ns;
  return t;
}

TEST(UrgencyTest, APriorityRisesByOneForEachAgeMsWaited) {
  const int64_t now = 1000 * kSecond;
  EXPECT_EQ(Urgency(Task(1, 5, now), now, 1000), 5);
  EXPECT_EQ(Urgency(Task(1, 5, now - 2500'000'000), now, 1000), 7);
  EXPECT_EQ(Urgency(Task(1, -128, now - 300 * kSecond), now, 1000), 172) << "past int8";
  EXPECT_EQ(Urgency(Task(1, 5, now - 300 * kSecond), now, 0), 5) << "0: no aging";
  EXPECT_EQ(Urgency(Task(1, 5, now + kSecond), now, 1000), 5) << "a clock step back";
}

TEST(UrgencyTest, LowWorkThatWaitedLongGoesBeforeNewUrgentWork) {
  const int64_t now = 1000 * kSecond;
  // The pool's order: priority, then age.
  std::vector<TaskInfo> backlog = {Task(10, 100, now), Task(11, 100, now), Task(3, 0, now - 150 * kSecond),
                                   Task(4, 0, now - 150 * kSecond)};
  auto aged = RankByUrgency(backlog, now, 1000);
  ASSERT_EQ(aged.size(), 4u);
  EXPECT_EQ(aged[0].task.id, 3u);
  EXPECT_EQ(aged[0].urgency, 150);
  EXPECT_EQ(aged[1].task.id, 4u) << "ties keep the pool's order";
  EXPECT_EQ(aged[2].task.id, 10u);
  const auto plain = RankByUrgency(backlog, now, 0);
  EXPECT_EQ(plain[0].task.id, 10u) << "without aging, priority alone";
  EXPECT_EQ(plain[1].task.id, 11u);
  EXPECT_EQ(plain[2].task.id, 3u);
}

}  // namespace
}  // namespace slate::supervisor
