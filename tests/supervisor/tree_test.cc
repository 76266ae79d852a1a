// A sub-supervisor's pieces: the subtasks it makes of a task, the workers
// each supervisor hands work to (its own team's), and the sub-requests it
// cancels when their parent was given up.
#include <gtest/gtest.h>

#include "health/worker_health.h"
#include "request/request_report.h"
#include "request/request_store.h"
#include "schedule/delegator.h"
#include "tree/orphans.h"
#include "tree/subtasks.h"
#include "util/test_pool.h"

namespace slate::supervisor {
namespace {

using nlohmann::json;
using testing::ScopedPool;

TEST(SubtasksTest, TheTasksOwnSubtasksAreRequestLines) {
  ScopedPool pool("subtasks");
  Subtasks s(*pool, "", 10000);
  auto defs = s.Make(7, json::parse(R"({"subtasks": [
      {"id": "a", "payload": 1, "requires": "api", "priority": 3},
      {"id": "b", "payload": {"x": 2}, "depends_on": ["a"]}]})"));
  ASSERT_TRUE(defs.ok()) << defs.status().message();
  ASSERT_EQ(defs->size(), 2u);
  EXPECT_EQ((*defs)[0].user_id, "a");
  EXPECT_EQ((*defs)[0].requires_cap, "api");
  EXPECT_EQ((*defs)[0].priority, 3);
  EXPECT_EQ((*defs)[1].depends_on, std::vector<std::string>{"a"});
  EXPECT_TRUE(IsPlan(*defs));
  // Kept: what the supervisor posts is what the handler read.
  auto again = s.Of(7);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[1].payload, json({{"x", 2}}));
}

TEST(SubtasksTest, EveryMistakeIsNamedAndNothingIsMade) {
  ScopedPool pool("subtasksbad");
  Subtasks s(*pool, "", 10000);
  const struct {
    const char* payload;
    const char* message;
  } cases[] = {
      {R"({"subtasks": 3})", "the subtasks of task 7: \"subtasks\" must be an array"},
      {R"({"subtasks": []})", "the subtasks of task 7 holds no subtasks"},
      {R"({"subtasks": [{"payload": 1, "requries": "x"}]})", "the subtasks of task 7:1: "},
      {R"({"subtasks": [{"id": "a", "payload": 1, "depends_on": ["nope"]}]})",
       "the subtasks of task 7"},
      {R"({"work": 1})",
       "task 7 has no \"subtasks\" and its sub-supervisor no --decompose command"},
  };
  for (const auto& c : cases) {
    auto r = s.Make(7, json::parse(c.payload));
    ASSERT_FALSE(r.ok()) << c.payload;
    EXPECT_EQ(r.status().message().rfind(c.message, 0), 0u)
        << c.payload << "\n  got: " << r.status().message();
  }
  EXPECT_FALSE(s.Of(7).ok()) << "nothing was kept";
}

TEST(SubtasksTest, ADecomposeCommandGetsThePayloadAndPrintsTheLines) {
  ScopedPool pool("decompose");
  Subtasks s(*pool,
             "python3 -c 'import json,sys; t=json.load(sys.stdin); "
             "[print(json.dumps({\"id\": t[\"f\"] + str(i), \"payload\": i})) for i in range(3)]'",
             10000);
  auto defs = s.Make(9, {{"f", "feature-"}});
  ASSERT_TRUE(defs.ok()) << defs.status().message();
  ASSERT_EQ(defs->size(), 3u);
  EXPECT_EQ((*defs)[2].user_id, "feature-2");
  EXPECT_EQ((*defs)[2].payload, 2);
  // Subtasks in the payload win over the command.
  EXPECT_EQ(s.Make(10, json::parse(R"({"subtasks": [{"payload": 0}]})"))->size(), 1u);
  Subtasks failing(*pool, "echo broken >&2; exit 3", 10000);
  auto r = failing.Make(9, "feature");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("--decompose of task 9 failed: exit code 3", 0), 0u)
      << r.status().message();
  Subtasks garbled(*pool, "echo not-json", 10000);
  EXPECT_EQ(garbled.Make(9, 1).status().message().rfind("--decompose of task 9:1: ", 0), 0u)
      << garbled.Make(9, 1).status().message();
}

TEST(TeamRotationTest, EachSupervisorHandsWorkToItsOwnTeamOnly) {
  ScopedPool pool("rotation");
  const AgentRef top = *pool->RegisterAgent({"top", {}, 0, AgentRole::kSupervisor});
  (void)*pool->RegisterAgent({"w-top", {}, 0});
  (void)*pool->RegisterAgent({"backend", {"backend"}, 0, AgentRole::kSubSupervisor});
  (void)*pool->RegisterAgent({"w-back", {"api"}, 0, AgentRole::kWorker, "backend"});
  const AgentRef lead =
      *pool->RegisterAgent({"lead", {}, 0, AgentRole::kSupervisor, "backend"});
  auto names = [](const std::vector<WorkerView>& v) {
    std::vector<std::string> out;
    for (const auto& w : v) out.push_back(w.name);
    return out;
  };
  HealthConfig top_cfg;
  WorkerHealth top_health(top_cfg, *pool, top);
  const auto at_top = top_health.Rotation();
  EXPECT_EQ(names(at_top), (std::vector<std::string>{"w-top", "backend"}));
  HealthConfig team_cfg;
  team_cfg.team = "backend";
  WorkerHealth team_health(team_cfg, *pool, lead);
  EXPECT_EQ(names(team_health.Rotation()), std::vector<std::string>{"w-back"});
  // The sub-supervisor gets only the tasks that require its capability.
  Delegator d(Policy::kRoundRobin, 4);
  std::vector<WorkerView> v = at_top;
  for (int i = 0; i < 4; ++i) {
    auto plain = d.Choose(v, "", 0);
    ASSERT_TRUE(plain.worker);
    EXPECT_EQ(v[*plain.worker].name, "w-top");
    d.Assigned(v, *plain.worker, "");
  }
  auto wanted = d.Choose(v, "backend", 0);
  ASSERT_TRUE(wanted.worker);
  EXPECT_EQ(v[*wanted.worker].name, "backend");
}

TEST(OrphansTest, ASubRequestWhoseParentWasGivenUpIsCancelled) {
  ScopedPool pool("orphans");
  const AgentRef lead = *pool->RegisterAgent({"lead", {}, 0, AgentRole::kSupervisor, "alpha"});
  TaskSpec parent;
  parent.entry = testing::MakeEntry("tasks");
  parent.assignee = lead;
  const TaskId kept = *pool->PostTask(parent);
  const TaskId given_up = *pool->PostTask(parent);
  std::vector<RequestRecord> reqs;
  for (TaskId p : {kept, given_up}) {
    RequestShape shape;
    shape.team = "alpha";
    shape.parent = p;
    RequestRecord req = *CreateRequest(*pool, "task " + std::to_string(p), SplitMode::kJsonLines,
                                       2, "", shape);
    std::vector<TaskDef> defs(2);
    defs[0].payload = 1;
    defs[1].payload = 2;
    ASSERT_TRUE(PostTasks(*pool, req, defs, lead, 2).ok());
    reqs.push_back(req);
  }
  ASSERT_EQ(FindActiveRequests(*pool, "alpha")->size(), 2u);
  EXPECT_TRUE(FindActiveRequests(*pool)->empty()) << "the top level sees no team's requests";
  EXPECT_EQ(*CancelOrphans(*pool, "alpha"), 0u);
  ASSERT_TRUE(pool->EndTask(given_up, TaskState::kCancelled, "by a person").ok());
  EXPECT_EQ(*CancelOrphans(*pool, "alpha"), 1u);
  for (TaskId id : *TaskIdsOf(*pool, reqs[1].id))
    EXPECT_EQ(pool->GetTask(id)->state, TaskState::kCancelled);
  for (TaskId id : *TaskIdsOf(*pool, reqs[0].id))
    EXPECT_EQ(pool->GetTask(id)->state, TaskState::kPending);
  EXPECT_TRUE(LoadRequest(*pool, reqs[1].entry_id)->cancelled);
  EXPECT_EQ(*CancelOrphans(*pool, "alpha"), 0u) << "once";
  auto found = FindSubRequest(*pool, given_up);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, reqs[1].id);
  EXPECT_EQ((*found)->team, "alpha");
  EXPECT_TRUE(pool->Check().empty());
}

TEST(OrphansTest, ASubRequestsEndIsNeverTakenForTheTopLevelsLast) {
  ScopedPool pool("finals");
  RequestRecord top = *CreateRequest(*pool, "top.jsonl", SplitMode::kJsonLines, 1);
  AbandonRequest(*pool, top, "its file is gone");
  RequestShape shape;
  shape.team = "alpha";
  shape.parent = 99;
  RequestRecord sub = *CreateRequest(*pool, "task 99", SplitMode::kJsonLines, 1, "", shape);
  AbandonRequest(*pool, sub, "its subtasks cannot be made");
  // A restarted top supervisor asks how the pool's last request ended.
  auto last = FinalEntryOf(*pool, "");
  ASSERT_TRUE(last.has_value());
  EXPECT_NE(std::find(last->tags.begin(), last->tags.end(), "req:" + top.id), last->tags.end());
  auto of_sub = FinalEntryOf(*pool, sub.id);
  ASSERT_TRUE(of_sub.has_value());
  EXPECT_NE(std::find(of_sub->tags.begin(), of_sub->tags.end(), "team:alpha"), of_sub->tags.end());
  EXPECT_TRUE(FindActiveRequests(*pool, "alpha")->empty());
}

}  // namespace
}  // namespace slate::supervisor
