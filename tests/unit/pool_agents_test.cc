#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::ScopedPool;

TEST(PoolAgentsTest, RegisterListsTheAgentWithItsEntry) {
  ScopedPool sut("agents");
  auto ref = sut->RegisterAgent({"worker-1", {"cpu", "io"}, 0});
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  auto list = sut->ListAgents(10s);
  ASSERT_EQ(list->size(), 1u);
  const AgentInfo& a = list->front();
  EXPECT_EQ(a.name, "worker-1");
  EXPECT_EQ(a.capabilities, (std::vector<std::string>{"cpu", "io"}));
  EXPECT_EQ(a.pid, getpid());
  EXPECT_EQ(a.liveness, Liveness::kAlive);
  EXPECT_EQ(a.ref, *ref);
  auto e = sut->Read(a.entry_id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->segment, "agents");
  EXPECT_TRUE(e->live);
  EXPECT_EQ(sut->Erase(a.entry_id).code(), StatusCode::kWrongState);
}

TEST(PoolAgentsTest, DuplicateNamesBadNamesAndFullTableAreRefused) {
  ScopedPool sut("agentsbad");
  ASSERT_TRUE(sut->RegisterAgent({"w", {}, 0}).ok());
  EXPECT_EQ(sut->RegisterAgent({"w", {}, 0}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(sut->RegisterAgent({"", {}, 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sut->RegisterAgent({"x", std::vector<std::string>(9, "c"), 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(sut->RegisterAgent({"x", {"bad cap"}, 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(sut->RegisterAgent({"x", {}, 999999999}).status().code(),
            StatusCode::kInvalidArgument);
  for (int i = 1; i < 16; ++i)
    ASSERT_TRUE(sut->RegisterAgent({"w" + std::to_string(i), {}, 0}).ok()) << i;
  auto full = sut->RegisterAgent({"one-more", {}, 0});
  EXPECT_EQ(full.status().code(), StatusCode::kPoolFull);
  EXPECT_NE(full.status().message().find("no free agent row"), std::string::npos);
}

TEST(PoolAgentsTest, StaleHeartbeatAndGoneProcessAreTold) {
  ScopedPool sut("liveness");
  auto me = *sut->RegisterAgent({"me", {}, 0});
  const pid_t child = testing::ForkChild([] {
    pause();
    return 0;
  });
  auto other = sut->RegisterAgent({"child", {}, child});
  ASSERT_TRUE(other.ok());
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(sut->Heartbeat(me).ok());
  auto list = *sut->ListAgents(20ms);
  EXPECT_EQ(list[0].liveness, Liveness::kAlive);
  EXPECT_EQ(list[1].liveness, Liveness::kStale);
  kill(child, SIGKILL);
  testing::WaitChild(child);
  list = *sut->ListAgents(10s);
  EXPECT_EQ(list[1].liveness, Liveness::kGone);
}

TEST(PoolAgentsTest, DeregisterHandsTasksBackAndFreesTheRow) {
  ScopedPool sut("dereg");
  auto w = *sut->RegisterAgent({"w", {}, 0});
  std::vector<TaskId> ids;
  for (int i = 0; i < 3; ++i) {
    TaskSpec t;
    t.entry = testing::MakeEntry("tasks");
    t.assignee = w;
    ids.push_back(*sut->PostTask(t));
  }
  auto claim = *sut->ClaimNext(w, 5s);
  ASSERT_TRUE(claim.has_value());
  ASSERT_TRUE(sut->Deregister(w).ok());
  EXPECT_TRUE(sut->ListAgents(10s)->empty());
  EXPECT_EQ(sut->PendingTasks(kSharedQueue, 0)->size(), 3u);
  EXPECT_EQ(sut->Heartbeat(w).code(), StatusCode::kNotFound);
  EXPECT_EQ(sut->Complete(claim->task.id, claim->task.epoch, {}).status().code(),
            StatusCode::kStaleEpoch);
  auto again = sut->RegisterAgent({"w", {}, 0});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->row, w.row);
  EXPECT_NE(again->generation, w.generation);
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate
