// The death watch hands a dead worker's tasks back the moment it dies, and
// leaves a worker that left cleanly alone.
#include "health/death_watch.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "util/test_pool.h"

namespace slate::supervisor {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;

class DeathWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    me = pool->RegisterAgent({"sup", {}, 0, AgentRole::kSupervisor}).value();
    ASSERT_EQ(pipe(ready_), 0);
    ASSERT_EQ(pipe(go_), 0);
  }
  void TearDown() override {
    for (int fd : {ready_[0], ready_[1], go_[0], go_[1]}) close(fd);
    EXPECT_TRUE(pool->Check().empty());
  }
  // A worker in a child process that registers and claims a task, then
  // waits for Go() and leaves: cleanly (deregistering) or not at all.
  // Returns once it holds the task.
  pid_t StartWorker(bool clean, TaskId* task) {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "x");
    *task = pool->PostTask(t).value();
    const TaskId id = *task;
    const pid_t child = testing::ForkChild([=, this] {
      auto p = Pool::Open(pool.name());
      if (!p.ok()) return 2;
      auto w = (*p)->RegisterAgent({"w", {}, 0, AgentRole::kWorker});
      if (!w.ok()) return 3;
      auto c = (*p)->ClaimNext(*w, 60s);
      if (!c.ok() || !c->has_value() || (*c)->task.id != id) return 4;
      (void)!write(ready_[1], "r", 1);
      char b;
      (void)!read(go_[0], &b, 1);
      if (clean) (void)(*p)->Deregister(*w, me);
      return 0;
    });
    char b;
    EXPECT_EQ(read(ready_[0], &b, 1), 1);
    return child;
  }
  void Go() { EXPECT_EQ(write(go_[1], "g", 1), 1); }
  template <typename Pred>
  static bool Within(std::chrono::milliseconds limit, Pred done) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  testing::ScopedPool pool{"deathwatch"};
  AgentRef me;
  int ready_[2] = {-1, -1}, go_[2] = {-1, -1};
};

// The watch starts after the fork: a child of a threaded process is not
// what a sanitizer run should have to reason about.
TEST_F(DeathWatchTest, AKilledWorkersRunningTaskComesBackToTheSupervisor) {
  TaskId id = 0;
  const pid_t child = StartWorker(false, &id);
  EXPECT_EQ(pool->GetTask(id)->state, TaskState::kRunning);
  DeathWatch watch(*pool, me);
  std::this_thread::sleep_for(50ms);  // the watch has refreshed and holds its pidfd
  kill(child, SIGKILL);
  ASSERT_TRUE(Within(5s, [&] { return pool->GetTask(id)->state == TaskState::kPending; }));
  EXPECT_EQ(pool->PendingTasks(me, 0)->size(), 1u) << "back in the supervisor's backlog";
  // Counted just after the deregistration that made the task pending.
  EXPECT_TRUE(Within(5s, [&] { return watch.deaths() == 1; }));
  Query q;
  q.segments = {"errors"};
  q.all_tags = {"lost", "task:" + std::to_string(id)};
  EXPECT_EQ(pool->Find(q)->size(), 1u);
  testing::WaitChild(child);
}

TEST_F(DeathWatchTest, AWorkerThatLeftCleanlyIsNoDeath) {
  TaskId id = 0;
  const pid_t child = StartWorker(true, &id);
  DeathWatch watch(*pool, me);
  std::this_thread::sleep_for(50ms);
  Go();
  EXPECT_EQ(testing::WaitChild(child), 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(watch.deaths(), 0u);
}

}  // namespace
}  // namespace slate::supervisor
