// The death watch hands a dead worker's tasks back the moment it dies, and
// leaves a worker that left cleanly alone.
#include "death_watch.h"

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
  }
  // A worker in a child process: registers, claims the task, says so on
  // `ready`, then waits for `go` and leaves as `clean` says.
  pid_t StartWorker(TaskId task, int ready, int go, bool clean) {
    return testing::ForkChild([=, this] {
      auto p = Pool::Open(pool.name());
      if (!p.ok()) return 2;
      auto w = (*p)->RegisterAgent({"w", {}, 0, AgentRole::kWorker});
      if (!w.ok()) return 3;
      auto c = (*p)->ClaimNext(*w, 60s);
      if (!c.ok() || !c->has_value() || (*c)->task.id != task) return 4;
      (void)!write(ready, "r", 1);
      char b;
      (void)!read(go, &b, 1);
      if (clean) (void)(*p)->Deregister(*w, me);
      return 0;
    });
  }
  TaskId Post() {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "sup", "x");
    return pool->PostTask(t).value();
  }
  bool WaitPending(TaskId id, std::chrono::milliseconds within) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
      if (pool->GetTask(id)->state == TaskState::kPending) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
  testing::ScopedPool pool{"deathwatch"};
  AgentRef me;
};

// The watch starts after the fork: a child of a threaded process is not
// what a sanitizer run should have to reason about.
TEST_F(DeathWatchTest, AKilledWorkersRunningTaskComesBackToTheSupervisor) {
  const TaskId id = Post();
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = StartWorker(id, ready[1], go[0], false);
  char b;
  ASSERT_EQ(read(ready[0], &b, 1), 1);
  EXPECT_EQ(pool->GetTask(id)->state, TaskState::kRunning);
  DeathWatch watch(*pool, me);
  std::this_thread::sleep_for(50ms);  // the watch has refreshed and holds its pidfd
  kill(child, SIGKILL);
  ASSERT_TRUE(WaitPending(id, 5s));
  EXPECT_EQ(pool->PendingTasks(me, 0)->size(), 1u) << "back in the supervisor's backlog";
  // Counted just after the deregistration that made the task pending.
  for (int i = 0; i < 5000 && watch.deaths() == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(watch.deaths(), 1u);
  Query q;
  q.segments = {"errors"};
  q.all_tags = {"lost", "task:" + std::to_string(id)};
  EXPECT_EQ(pool->Find(q)->size(), 1u);
  testing::WaitChild(child);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
  EXPECT_TRUE(pool->Check().empty());
}

TEST_F(DeathWatchTest, AWorkerThatLeftCleanlyIsNoDeath) {
  const TaskId id = Post();
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = StartWorker(id, ready[1], go[0], true);
  char b;
  ASSERT_EQ(read(ready[0], &b, 1), 1);
  DeathWatch watch(*pool, me);
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  EXPECT_EQ(testing::WaitChild(child), 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(watch.deaths(), 0u);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
}

}  // namespace
}  // namespace slate::supervisor
