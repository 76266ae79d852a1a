// Aging: a task's urgency is its priority plus one per --age-ms it waited.
#include <gtest/gtest.h>

#include "urgency.h"

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
  RankByUrgency(&backlog, now, 1000);
  ASSERT_EQ(backlog.size(), 4u);
  EXPECT_EQ(backlog[0].id, 3u);
  EXPECT_EQ(backlog[1].id, 4u) << "ties keep the pool's order";
  EXPECT_EQ(backlog[2].id, 10u);
  RankByUrgency(&backlog, now, 0);
  EXPECT_EQ(backlog[0].id, 10u) << "without aging, priority alone";
  EXPECT_EQ(backlog[1].id, 11u);
  EXPECT_EQ(backlog[2].id, 3u);
}

}  // namespace
}  // namespace slate::supervisor
