// Teams of a supervision tree as the pool keeps them: each agent's team,
// one live supervisor a team, a sub-supervisor that takes only what
// requires its capability, and where a team's work is handed back.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::ScopedPool;

TEST(PoolTeamsTest, EachAgentKeepsItsTeam) {
  ScopedPool sut("teams");
  ASSERT_TRUE(sut->RegisterAgent({"top", {}, 0}).ok());
  ASSERT_TRUE(sut->RegisterAgent({"b1", {"api"}, 0, AgentRole::kWorker, "backend"}).ok());
  ASSERT_TRUE(
      sut->RegisterAgent({"backend", {"backend"}, 0, AgentRole::kSubSupervisor, ""}).ok());
  auto list = *sut->ListAgents(10s);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].team, "");
  EXPECT_EQ(list[1].team, "backend");
  EXPECT_EQ(list[1].capabilities, std::vector<std::string>{"api"});
  EXPECT_EQ(list[2].role, AgentRole::kSubSupervisor);
  EXPECT_STREQ(AgentRoleName(list[2].role), "sub-supervisor");
  const std::string longest(kMaxTeamNameBytes, 't');
  EXPECT_TRUE(sut->RegisterAgent({"w-long", {}, 0, AgentRole::kWorker, longest}).ok());
  EXPECT_EQ(sut->ListAgents(10s)->back().team, longest);
  for (const std::string& bad : {longest + "t", std::string("has space")}) {
    auto r = sut->RegisterAgent({"w-bad", {}, 0, AgentRole::kWorker, bad});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("team '"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(sut->RegisterAgent({"w-role", {}, 0, static_cast<AgentRole>(4)}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(PoolTeamsTest, ATeamHasOneLiveSupervisor) {
  ScopedPool sut("teamlead");
  auto first = sut->RegisterAgent({"s1", {}, 0, AgentRole::kSupervisor, "backend"});
  ASSERT_TRUE(first.ok());
  auto second = sut->RegisterAgent({"s2", {}, 0, AgentRole::kSupervisor, "backend"});
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(second.status().message(), "team 'backend' is led by 's1' (pid " +
                                           std::to_string(getpid()) + ")");
  // Other teams, and the top level's supervisors, are not held back.
  EXPECT_TRUE(sut->RegisterAgent({"s3", {}, 0, AgentRole::kSupervisor, "frontend"}).ok());
  EXPECT_TRUE(sut->RegisterAgent({"s4", {}, 0, AgentRole::kSupervisor}).ok());
  EXPECT_TRUE(sut->RegisterAgent({"s5", {}, 0, AgentRole::kSupervisor}).ok());
  // One that died leaves its row; it does not keep a successor out.
  const pid_t child = testing::ForkChild([] {
    pause();
    return 0;
  });
  ASSERT_TRUE(sut->RegisterAgent({"dead", {}, child, AgentRole::kSupervisor, "testing"}).ok());
  EXPECT_EQ(sut->RegisterAgent({"s6", {}, 0, AgentRole::kSupervisor, "testing"}).status().code(),
            StatusCode::kAlreadyExists);
  kill(child, SIGKILL);
  testing::WaitChild(child);
  EXPECT_TRUE(sut->RegisterAgent({"s6", {}, 0, AgentRole::kSupervisor, "testing"}).ok());
}

TEST(PoolTeamsTest, ASubSupervisorIsHandedOnlyWhatRequiresItsCapability) {
  ScopedPool sut("teamcaps");
  auto sub = *sut->RegisterAgent({"backend", {"backend"}, 0, AgentRole::kSubSupervisor});
  auto worker = *sut->RegisterAgent({"w", {}, 0});
  TaskSpec plain;
  plain.entry = testing::MakeEntry("tasks");
  plain.assignee = sub;
  auto refused = sut->PostTask(plain);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "agent 'backend' is a sub-supervisor: it takes only tasks that require its "
            "capability");
  plain.assignee = worker;
  const TaskId id = *sut->PostTask(plain);
  EXPECT_EQ(sut->Reassign(id, sub).code(), StatusCode::kInvalidArgument);
  TaskSpec wanted = plain;
  wanted.requires_cap = "backend";
  wanted.assignee = sub;
  EXPECT_TRUE(sut->PostTask(wanted).ok());
  wanted.requires_cap = "frontend";
  EXPECT_EQ(sut->PostTask(wanted).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(PoolTeamsTest, ATeamsWorkGoesBackToItsOwnSupervisor) {
  ScopedPool sut("teamheir");
  EXPECT_TRUE(sut->TeamSupervisorOrShared("backend").is_shared()) << "nobody leads it yet";
  auto top = *sut->RegisterAgent({"top", {}, 0, AgentRole::kSupervisor});
  ASSERT_TRUE(sut->AcquireLeadership(top, 5s).ok());
  EXPECT_EQ(sut->TeamSupervisorOrShared(""), top);
  EXPECT_TRUE(sut->TeamSupervisorOrShared("backend").is_shared());
  const pid_t child = testing::ForkChild([] {
    pause();
    return 0;
  });
  auto dead = *sut->RegisterAgent({"old", {}, child, AgentRole::kSupervisor, "backend"});
  kill(child, SIGKILL);
  testing::WaitChild(child);
  // Dead, it still holds what it is handed until its successor adopts it.
  EXPECT_EQ(sut->TeamSupervisorOrShared("backend"), dead);
  auto live = *sut->RegisterAgent({"new", {}, 0, AgentRole::kSupervisor, "backend"});
  EXPECT_EQ(sut->TeamSupervisorOrShared("backend"), live);
  EXPECT_EQ(sut->TeamSupervisorOrShared(""), top);
}

}  // namespace
}  // namespace slate
