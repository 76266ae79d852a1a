// Crash suite (ctest label "crash"): a child process SIGKILLs itself at a
// named step inside a pool operation, while holding the pool lock. After each
// death the parent requires: its next operation returns within 1 s, the pool
// check is clean, one recovery was counted, everything committed before is
// intact, and the interrupted operation is either wholly there (the child
// died after its commit point) or wholly absent (before it).
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <any>
#include <functional>
#include <map>

#include "slate/internal/crash_point.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::PackStr;
using testing::UnpackStr;

constexpr int kRounds = 9;  // per crash point; 42 points -> 378 kills

std::string Tag(int round) { return "victim-" + std::to_string(round); }

struct Fixture {
  testing::ScopedPool pool;
  AgentRef agent;
  std::map<EntryId, std::string> committed;  // must survive every crash
};

// One crash point: what the parent prepares, what the child runs (and dies
// in), and how the parent checks the outcome.
struct Scenario {
  std::string point;  // "<op>.<step>"
  std::function<std::any(Fixture&, int)> prepare;
  std::function<void(Pool&, Fixture&, int, const std::any&)> act;  // in child
  std::function<void(Pool&, Fixture&, int, const std::any&, bool committed)> verify;
};

bool AfterCommit(const std::string& point) {
  return point.size() > 13 && point.compare(point.size() - 13, 13, ".after_commit") == 0;
}

std::vector<Entry> ByTag(Pool& p, const std::string& seg, const std::string& tag) {
  Query q;
  q.segments = {seg};
  q.all_tags = {tag};
  q.limit = 0;
  return p.Find(q).value();
}

TaskId PostTo(Pool& p, AgentRef to, const std::string& tag) {
  TaskSpec t;
  t.entry = MakeEntry("tasks", {tag}, 0.5f, "sup", "task");
  t.assignee = to;
  return p.PostTask(t).value();
}

TaskResult ResultFor(int round) {
  TaskResult r;
  r.tags = {"res-" + std::to_string(round)};
  r.payload = PackStr("result-" + std::to_string(round));
  return r;
}

// Completes a task the parent leaves behind, so queues start empty.
void Finish(Pool& p, AgentRef a, TaskId id) {
  auto info = p.GetTask(id).value();
  if (info.state == TaskState::kPending) info = (*p.ClaimNext(a, 5s))->task;
  ASSERT_EQ(info.id, id);
  ASSERT_TRUE(p.Complete(id, info.epoch, {}).ok());
}

std::vector<Scenario> WriteScenarios() {
  std::vector<Scenario> out;
  for (const char* step : {"begin", "after_data", "before_commit", "after_commit"}) {
    out.push_back({std::string("write.") + step,
                   [](Fixture&, int) { return std::any(); },
                   [](Pool& p, Fixture&, int round, const std::any&) {
                     (void)p.Write(MakeEntry("notes", {Tag(round)}, 0.5f, "c",
                                             "payload-" + std::to_string(round)));
                   },
                   [](Pool& p, Fixture&, int round, const std::any&, bool done) {
                     auto found = ByTag(p, "notes", Tag(round));
                     ASSERT_EQ(found.size(), done ? 1u : 0u);
                     if (done) {
                       EXPECT_EQ(UnpackStr(found[0].payload),
                                 "payload-" + std::to_string(round));
                     }
                   }});
  }
  for (const char* step : {"after_data", "before_commit", "after_commit"}) {
    out.push_back({std::string("post.") + step,
                   [](Fixture&, int) { return std::any(); },
                   [](Pool& p, Fixture& f, int round, const std::any&) {
                     (void)PostTo(p, f.agent, Tag(round));
                   },
                   [](Pool& p, Fixture& f, int round, const std::any&, bool done) {
                     auto found = ByTag(p, "tasks", Tag(round));
                     ASSERT_EQ(found.size(), done ? 1u : 0u);
                     if (done) {
                       EXPECT_EQ(*p.PendingTasks(f.agent, 0),
                                 std::vector<TaskId>{found[0].id});
                       Finish(p, f.agent, found[0].id);
                     }
                   }});
  }
  return out;
}

std::vector<Scenario> ClaimScenarios() {
  std::vector<Scenario> out;
  for (const char* step : {"begin", "before_commit", "after_commit"}) {
    out.push_back({std::string("claim.") + step,
                   [](Fixture& f, int round) {
                     return std::any(PostTo(*f.pool, f.agent, Tag(round)));
                   },
                   [](Pool& p, Fixture& f, int, const std::any&) {
                     (void)p.ClaimNext(f.agent, 30s);
                   },
                   [](Pool& p, Fixture& f, int, const std::any& ctx, bool done) {
                     const TaskId id = std::any_cast<TaskId>(ctx);
                     const TaskInfo t = p.GetTask(id).value();
                     EXPECT_EQ(t.state, done ? TaskState::kRunning : TaskState::kPending);
                     EXPECT_EQ(t.epoch, done ? 1u : 0u);
                     EXPECT_EQ(t.attempts, done ? 1u : 0u);
                     EXPECT_EQ(p.RunningTasks(f.agent)->size(), done ? 1u : 0u);
                     Finish(p, f.agent, id);
                   }});
  }
  return out;
}

std::vector<Scenario> CompleteScenarios() {
  std::vector<Scenario> out;
  for (const char* step :
       {"begin", "after_data", "after_result", "before_commit", "after_commit"}) {
    out.push_back(
        {std::string("complete.") + step,
         [](Fixture& f, int round) {
           PostTo(*f.pool, f.agent, Tag(round));
           return std::any((*f.pool->ClaimNext(f.agent, 30s))->task);
         },
         [](Pool& p, Fixture&, int round, const std::any& ctx) {
           const TaskInfo t = std::any_cast<TaskInfo>(ctx);
           (void)p.Complete(t.id, t.epoch, ResultFor(round));
         },
         [](Pool& p, Fixture& f, int round, const std::any& ctx, bool done) {
           const TaskInfo t = std::any_cast<TaskInfo>(ctx);
           const TaskInfo now = p.GetTask(t.id).value();
           auto results = ByTag(p, "results", "res-" + std::to_string(round));
           if (done) {
             ASSERT_EQ(now.state, TaskState::kDone);
             ASSERT_EQ(results.size(), 1u);
             EXPECT_EQ(results[0].id, now.result_id);
             EXPECT_EQ(UnpackStr(results[0].payload), "result-" + std::to_string(round));
             // The crashed claimer's retry is refused: one result, ever.
             EXPECT_EQ(p.Complete(t.id, t.epoch, ResultFor(round)).status().code(),
                       StatusCode::kStaleEpoch);
           } else {
             ASSERT_EQ(now.state, TaskState::kRunning);
             EXPECT_EQ(now.result_id, 0u);
             ASSERT_TRUE(results.empty());
             ASSERT_TRUE(p.Complete(t.id, t.epoch, ResultFor(round)).ok());
           }
           EXPECT_EQ(ByTag(p, "results", "res-" + std::to_string(round)).size(), 1u);
           (void)f;
         }});
  }
  for (const char* step : {"before_commit", "after_commit"}) {
    out.push_back(
        {std::string("fail.") + step,
         [](Fixture& f, int round) {
           PostTo(*f.pool, f.agent, Tag(round));
           return std::any((*f.pool->ClaimNext(f.agent, 30s))->task);
         },
         [](Pool& p, Fixture&, int, const std::any& ctx) {
           const TaskInfo t = std::any_cast<TaskInfo>(ctx);
           (void)p.Fail(t.id, t.epoch, "it broke");
         },
         [](Pool& p, Fixture& f, int, const std::any& ctx, bool done) {
           const TaskInfo t = std::any_cast<TaskInfo>(ctx);
           const auto errors = ByTag(p, "errors", "task:" + std::to_string(t.id));
           EXPECT_EQ(p.GetTask(t.id)->state, done ? TaskState::kFailed : TaskState::kRunning);
           EXPECT_EQ(errors.size(), done ? 1u : 0u);
           if (!done) {
             ASSERT_TRUE(p.Fail(t.id, t.epoch, "it broke").ok());
           }
           ASSERT_TRUE(p.DeadLetter(t.id, "test is done with it").ok());
           for (const auto& e : ByTag(p, "errors", "task:" + std::to_string(t.id)))
             ASSERT_TRUE(p.Resolve(e.id).ok());
           (void)f;
         }});
  }
  return out;
}

// A plan's states: a waiting task made ready, and a running task cancelled
// (its claim goes stale: the dead claimer's late result is refused).
std::vector<Scenario> PlanScenarios() {
  std::vector<Scenario> out;
  for (const char* step : {"before_commit", "after_commit"}) {
    out.push_back({std::string("requeue.") + step,
                   [](Fixture& f, int round) {
                     TaskSpec t;
                     t.entry = MakeEntry("tasks", {Tag(round)}, 0.5f, "sup", "task");
                     t.waiting = true;
                     return std::any(f.pool->PostTask(t).value());
                   },
                   [](Pool& p, Fixture& f, int, const std::any& ctx) {
                     (void)p.MakeReady(std::any_cast<TaskId>(ctx), f.agent);
                   },
                   [](Pool& p, Fixture& f, int, const std::any& ctx, bool done) {
                     const TaskId id = std::any_cast<TaskId>(ctx);
                     EXPECT_EQ(p.GetTask(id)->state,
                               done ? TaskState::kPending : TaskState::kWaiting);
                     EXPECT_EQ(p.PendingTasks(f.agent, 0)->size(), done ? 1u : 0u);
                     EXPECT_EQ(p.Stats()->tasks_by_state[static_cast<int>(TaskState::kWaiting)],
                               done ? 0u : 1u);
                     if (!done) {
                       ASSERT_TRUE(p.MakeReady(id, f.agent).ok());
                     }
                     Finish(p, f.agent, id);
                   }});
    out.push_back({std::string("dead_letter.") + step,
                   [](Fixture& f, int round) {
                     PostTo(*f.pool, f.agent, Tag(round));
                     return std::any((*f.pool->ClaimNext(f.agent, 30s))->task);
                   },
                   [](Pool& p, Fixture&, int, const std::any& ctx) {
                     (void)p.EndTask(std::any_cast<TaskInfo>(ctx).id, TaskState::kCancelled,
                                     "by the test");
                   },
                   [](Pool& p, Fixture& f, int round, const std::any& ctx, bool done) {
                     const TaskInfo t = std::any_cast<TaskInfo>(ctx);
                     const auto records = ByTag(p, "errors", "task:" + std::to_string(t.id));
                     EXPECT_EQ(p.GetTask(t.id)->state,
                               done ? TaskState::kCancelled : TaskState::kRunning);
                     EXPECT_EQ(records.size(), done ? 1u : 0u);
                     EXPECT_EQ(p.RunningTasks(f.agent)->size(), done ? 0u : 1u);
                     if (!done) {
                       ASSERT_TRUE(p.EndTask(t.id, TaskState::kCancelled, "again").ok());
                     }
                     EXPECT_EQ(p.Complete(t.id, t.epoch, ResultFor(round)).status().code(),
                               StatusCode::kStaleEpoch);
                     for (const auto& e : ByTag(p, "errors", "task:" + std::to_string(t.id)))
                       ASSERT_TRUE(p.Resolve(e.id).ok());
                   }});
  }
  return out;
}

// Review: a failed task held for a person, then resumed or accepted.
std::vector<Scenario> ReviewScenarios() {
  std::vector<Scenario> out;
  // A task that failed its only attempt, held when `held`.
  auto exhausted = [](Fixture& f, int round, bool held) {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {Tag(round)}, 0.5f, "sup", "task");
    t.assignee = f.agent;
    t.max_retries = 0;
    const TaskId id = f.pool->PostTask(t).value();
    const auto c = f.pool->ClaimNext(f.agent, 30s).value();
    EXPECT_TRUE(f.pool->Fail(id, c->task.epoch, "boom").ok());
    if (held) { EXPECT_TRUE(f.pool->Hold(id, "out of retries").ok()); }
    return id;
  };
  // Settles the task's records so the pool does not fill over the rounds.
  auto settle = [](Pool& p, TaskId id) {
    for (const auto& e : ByTag(p, "errors", "task:" + std::to_string(id)))
      ASSERT_TRUE(p.Resolve(e.id).ok());
  };
  for (const char* step : {"before_commit", "after_commit"}) {
    out.push_back({std::string("hold.") + step,
                   [=](Fixture& f, int round) { return std::any(exhausted(f, round, false)); },
                   [](Pool& p, Fixture&, int, const std::any& ctx) {
                     (void)p.Hold(std::any_cast<TaskId>(ctx), "out of retries");
                   },
                   [=](Pool& p, Fixture&, int, const std::any& ctx, bool done) {
                     const TaskId id = std::any_cast<TaskId>(ctx);
                     EXPECT_EQ(p.GetTask(id)->state,
                               done ? TaskState::kHeld : TaskState::kFailed);
                     EXPECT_EQ(ByTag(p, "errors", "task:" + std::to_string(id)).size(), done ? 2u : 1u)
                         << "the failure, and the hold once committed";
                     if (!done) { ASSERT_TRUE(p.Hold(id, "again").ok()); }
                     ASSERT_TRUE(p.EndTask(id, TaskState::kDeadLettered, "rejected").ok());
                     settle(p, id);
                   }});
    out.push_back({std::string("resume.") + step,
                   [=](Fixture& f, int round) { return std::any(exhausted(f, round, true)); },
                   [](Pool& p, Fixture& f, int, const std::any& ctx) {
                     (void)p.ResumeHeld(std::any_cast<TaskId>(ctx), f.agent);
                   },
                   [=](Pool& p, Fixture& f, int, const std::any& ctx, bool done) {
                     const TaskId id = std::any_cast<TaskId>(ctx);
                     EXPECT_EQ(p.GetTask(id)->state,
                               done ? TaskState::kPending : TaskState::kHeld);
                     EXPECT_EQ(p.PendingTasks(f.agent, 0)->size(), done ? 1u : 0u);
                     if (!done) { ASSERT_TRUE(p.ResumeHeld(id, f.agent).ok()); }
                     Finish(p, f.agent, id);
                     settle(p, id);
                   }});
    out.push_back({std::string("preempt.") + step,
                   [](Fixture& f, int round) {
                     PostTo(*f.pool, f.agent, Tag(round));
                     return std::any((*f.pool->ClaimNext(f.agent, 30s))->task);
                   },
                   [](Pool& p, Fixture&, int, const std::any& ctx) {
                     (void)p.Preempt(std::any_cast<TaskInfo>(ctx).id, kSharedQueue, "urgent");
                   },
                   [=](Pool& p, Fixture& f, int round, const std::any& ctx, bool done) {
                     const TaskInfo t = std::any_cast<TaskInfo>(ctx);
                     EXPECT_EQ(p.GetTask(t.id)->state,
                               done ? TaskState::kPending : TaskState::kRunning);
                     EXPECT_EQ(ByTag(p, "errors", "task:" + std::to_string(t.id)).size(),
                               done ? 1u : 0u);
                     if (!done) { ASSERT_TRUE(p.Preempt(t.id, kSharedQueue, "again").ok()); }
                     EXPECT_EQ(p.Complete(t.id, t.epoch, ResultFor(round)).status().code(),
                               StatusCode::kStaleEpoch);
                     const auto c = p.ClaimNext(f.agent, 30s).value();
                     ASSERT_TRUE(c.has_value());
                     ASSERT_TRUE(p.Complete(t.id, c->task.epoch, ResultFor(round)).ok());
                     settle(p, t.id);
                   }});
    out.push_back({std::string("accept.") + step,
                   [=](Fixture& f, int round) { return std::any(exhausted(f, round, true)); },
                   [](Pool& p, Fixture&, int round, const std::any& ctx) {
                     (void)p.AcceptHeld(std::any_cast<TaskId>(ctx), ResultFor(round), "review");
                   },
                   [=](Pool& p, Fixture&, int round, const std::any& ctx, bool done) {
                     const TaskId id = std::any_cast<TaskId>(ctx);
                     EXPECT_EQ(p.GetTask(id)->state, done ? TaskState::kDone : TaskState::kHeld);
                     EXPECT_EQ(ByTag(p, "results", "res-" + std::to_string(round)).size(),
                               done ? 1u : 0u);
                     if (!done) { ASSERT_TRUE(p.AcceptHeld(id, ResultFor(round), "review").ok()); }
                     EXPECT_EQ(ByTag(p, "results", "res-" + std::to_string(round)).size(), 1u);
                     settle(p, id);
                   }});
  }
  return out;
}

std::vector<Scenario> EntryScenarios() {
  std::vector<Scenario> out;
  for (const char* step : {"begin", "before_commit", "after_commit"}) {
    // The pool is kept full of evictable notes, so every write evicts.
    out.push_back({std::string("evict.") + step,
                   [](Fixture& f, int) {
                     while (f.pool->Stats()->entries < 64)  // full again
                       EXPECT_TRUE(f.pool->Write(MakeEntry("filler", {}, 0.0f)).ok());
                     return std::any(f.pool->Stats()->evictions);
                   },
                   [](Pool& p, Fixture&, int round, const std::any&) {
                     (void)p.Write(MakeEntry("filler", {Tag(round)}, 0.0f));
                   },
                   [](Pool& p, Fixture&, int round, const std::any& ctx, bool done) {
                     const uint64_t before = std::any_cast<uint64_t>(ctx);
                     EXPECT_EQ(p.Stats()->evictions, before + (done ? 1 : 0));
                     EXPECT_TRUE(ByTag(p, "filler", Tag(round)).empty());
                   }});
  }
  for (const char* step : {"before_commit", "after_commit"}) {
    out.push_back({std::string("update.") + step,
                   [](Fixture& f, int round) {
                     return std::any(
                         f.pool->Write(MakeEntry("docs", {Tag(round)}, 0.9f, "u", "old")).value());
                   },
                   [](Pool& p, Fixture&, int, const std::any& ctx) {
                     EntryUpdate u;
                     u.payload = PackStr(std::string(300, 'n'));
                     u.tags = std::vector<std::string>{"updated"};
                     (void)p.Update(std::any_cast<EntryId>(ctx), u);
                   },
                   [](Pool& p, Fixture& f, int, const std::any& ctx, bool done) {
                     const Entry e = p.Read(std::any_cast<EntryId>(ctx)).value();
                     EXPECT_EQ(UnpackStr(e.payload), done ? std::string(300, 'n') : "old");
                     EXPECT_EQ(e.tags.size(), 1u);
                     EXPECT_EQ(e.tags[0] == "updated", done);
                     ASSERT_TRUE(p.Erase(e.id).ok());
                     (void)f;
                   }});
    out.push_back({std::string("erase.") + step,
                   [](Fixture& f, int round) {
                     return std::any(
                         f.pool->Write(MakeEntry("docs", {Tag(round)}, 0.9f)).value());
                   },
                   [](Pool& p, Fixture&, int, const std::any& ctx) {
                     (void)p.Erase(std::any_cast<EntryId>(ctx));
                   },
                   [](Pool& p, Fixture&, int, const std::any& ctx, bool done) {
                     const EntryId id = std::any_cast<EntryId>(ctx);
                     EXPECT_EQ(p.Read(id).ok(), !done);
                     if (!done) {
                       ASSERT_TRUE(p.Erase(id).ok());
                     }
                   }});
  }
  return out;
}

class CrashTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(CrashTest, DeathInsideTheLockLosesNothingAndHalvesNothing) {
  const Scenario& sc = GetParam();
  PoolOptions o = testing::SmallOptions("crash");
  o.slot_capacity = 64;
  Fixture f{testing::ScopedPool(o), {}, {}};
  Pool& pool = *f.pool;
  f.agent = pool.RegisterAgent({"worker", {}, 0}).value();
  // Entries that must survive everything: live errors (never evicted).
  for (int i = 0; i < 8; ++i) {
    const std::string body = "keep-" + std::to_string(i);
    f.committed[pool.Write(MakeEntry("errors", {"keep"}, 1.0f, "p", body)).value()] = body;
  }
  while (pool.Stats()->entries < 64)  // full: later writes must evict
    ASSERT_TRUE(pool.Write(MakeEntry("filler", {}, 0.0f)).ok());
  const bool after_commit = AfterCommit(sc.point);
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(sc.point + " round " + std::to_string(round));
    const std::any ctx = sc.prepare(f, round);
    const uint64_t recoveries = pool.Stats()->recoveries;
    const pid_t child = testing::ForkChild([&] {
      auto p = Pool::Open(f.pool.name());
      if (!p.ok()) return 2;
      internal::TEST_ArmCrashPoint(sc.point);
      sc.act(**p, f, round, ctx);
      return 3;  // the point was never reached
    });
    const int status = testing::WaitChild(child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child did not die at the crash point; status " << status;
    const auto start = std::chrono::steady_clock::now();
    auto stats = pool.Stats();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->recoveries, recoveries + 1);
    const auto problems = pool.Check();
    ASSERT_TRUE(problems.empty()) << problems.front();
    sc.verify(pool, f, round, ctx, after_commit);
    for (const auto& [id, body] : f.committed) {
      auto e = pool.Read(id);
      ASSERT_TRUE(e.ok()) << "committed entry " << id << " lost";
      EXPECT_EQ(UnpackStr(e->payload), body);
    }
    ASSERT_TRUE(pool.Check().empty());
  }
}

// A batch is a run of transactions under one lock hold: a death inside
// item k keeps items 0..k-1 whole and leaves no trace of item k.
class CrashBatchTest : public ::testing::Test {
 protected:
  void SetUp() override { agent = pool->RegisterAgent({"worker", {}, 0}).value(); }
  // Runs body in a child armed to die at the (skip+1)-th `point`.
  void DieIn(const std::string& point, int skip, const std::function<void(Pool&)>& body) {
    const uint64_t recoveries = pool->Stats()->recoveries;
    const pid_t child = testing::ForkChild([&] {
      auto p = Pool::Open(pool.name());
      if (!p.ok()) return 2;
      internal::TEST_ArmCrashPoint(point, skip);
      body(**p);
      return 3;
    });
    const int status = testing::WaitChild(child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    EXPECT_EQ(pool->Stats()->recoveries, recoveries + 1);
    const auto problems = pool->Check();
    ASSERT_TRUE(problems.empty()) << problems.front();
  }
  std::vector<TaskSpec> Specs(int n) {
    std::vector<TaskSpec> specs(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      specs[static_cast<size_t>(i)].entry = MakeEntry("tasks", {}, 0.5f, "sup", "t" + std::to_string(i));
      specs[static_cast<size_t>(i)].assignee = agent;
    }
    return specs;
  }
  testing::ScopedPool pool{"crash-batch"};
  AgentRef agent;
};

TEST_F(CrashBatchTest, PostBatchKeepsTheTasksBeforeTheDeath) {
  DieIn("post.before_commit", 3, [&](Pool& p) {
    std::vector<TaskId> ids;
    (void)p.PostTasks(Specs(6), &ids);
  });
  const auto pending = pool->PendingTasks(agent, 10).value();
  ASSERT_EQ(pending.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(UnpackStr(pool->Read(pending[static_cast<size_t>(i)])->payload), "t" + std::to_string(i));
}

TEST_F(CrashBatchTest, ClaimBatchKeepsTheClaimsBeforeTheDeath) {
  std::vector<TaskId> ids;
  ASSERT_TRUE(pool->PostTasks(Specs(6), &ids).ok());
  DieIn("claim.before_commit", 2, [&](Pool& p) {
    std::vector<Claim> claims;
    (void)p.ClaimBatch(agent, 60s, 6, &claims);
  });
  EXPECT_EQ(pool->RunningTasks(agent)->size(), 2u);
  EXPECT_EQ(pool->PendingTasks(agent, 10)->size(), 4u);
  EXPECT_EQ(pool->GetTask(ids[1])->state, TaskState::kRunning);
  EXPECT_EQ(pool->GetTask(ids[2])->state, TaskState::kPending);
}

TEST_F(CrashBatchTest, CompleteBatchKeepsTheResultsBeforeTheDeath) {
  std::vector<TaskId> ids;
  ASSERT_TRUE(pool->PostTasks(Specs(5), &ids).ok());
  std::vector<Claim> claims;
  ASSERT_TRUE(pool->ClaimBatch(agent, 60s, 5, &claims).ok());
  std::vector<Completion> done(claims.size());
  for (size_t i = 0; i < claims.size(); ++i)
    done[i] = {claims[i].task.id, claims[i].task.epoch, {{}, 0.5f, PackStr("r")}};
  DieIn("complete.before_commit", 2, [&](Pool& p) {
    std::vector<Result<EntryId>> out;
    p.CompleteBatch(done, agent, &out);
  });
  const auto per_task = testing::ResultsPerTask(*pool);
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool done_before = i < 2;
    EXPECT_EQ(pool->GetTask(ids[i])->state, done_before ? TaskState::kDone : TaskState::kRunning);
    EXPECT_EQ(per_task.count(ids[i]) ? per_task.at(ids[i]) : 0, done_before ? 1 : 0);
  }
  // The survivors complete normally afterwards, exactly once.
  std::vector<Result<EntryId>> out;
  pool->CompleteBatch(std::span<const Completion>(done).subspan(2), agent, &out);
  for (const auto& o : out) EXPECT_TRUE(o.ok()) << o.status().ToString();
  for (const auto& [task, n] : testing::ResultsPerTask(*pool)) EXPECT_EQ(n, 1) << task;
}

// A queue's run of free slots is filled inside the transaction that first
// needs it: a death halfway (half the fresh slots sealed, the high-water
// mark not yet raised; or the free list cut) leaves the task unposted and
// every slot usable.
TEST_F(CrashBatchTest, DeathFillingAFreshRunLosesNoSlot) {
  DieIn("post.fill_run", 0, [&](Pool& p) { (void)p.PostTask(Specs(1)[0]); });
  EXPECT_TRUE(pool->PendingTasks(agent, 10)->empty());
  std::vector<TaskId> ids;
  ASSERT_TRUE(pool->PostTasks(Specs(40), &ids).ok());  // past one run
  EXPECT_EQ(pool->PendingTasks(agent, 64)->size(), 40u);
  EXPECT_TRUE(pool->Check().empty());
}

TEST_F(CrashBatchTest, DeathFillingARunFromTheFreeListLosesNoSlot) {
  std::vector<EntryId> notes;
  for (int i = 0; i < 40; ++i)
    notes.push_back(pool->Write(MakeEntry("notes", {}, 0.5f, "n", "x")).value());
  for (EntryId id : notes) ASSERT_TRUE(pool->Erase(id).ok());
  const uint32_t high = testing::RawView(pool.name()).r().header().counters.slot_high;
  DieIn("post.fill_run", 0, [&](Pool& p) { (void)p.PostTask(Specs(1)[0]); });
  EXPECT_TRUE(pool->PendingTasks(agent, 10)->empty());
  std::vector<TaskId> ids;
  ASSERT_TRUE(pool->PostTasks(Specs(40), &ids).ok());
  EXPECT_EQ(pool->PendingTasks(agent, 64)->size(), 40u);
  // The freed slots were reused, the run's and the list's alike.
  EXPECT_EQ(testing::RawView(pool.name()).r().header().counters.slot_high, high);
  EXPECT_TRUE(pool->Check().empty());
}

// Checkpoints: a save that replaces the last one, and a completion that
// drops it, each in one transaction with the task's mark.
std::vector<Scenario> CheckpointScenarios() {
  std::vector<Scenario> out;
  // A running task with the checkpoint "old".
  auto checkpointed = [](Fixture& f, int round) {
    PostTo(*f.pool, f.agent, Tag(round));
    const TaskInfo t = (*f.pool->ClaimNext(f.agent, 30s))->task;
    EXPECT_TRUE(f.pool->SaveCheckpoint(t.id, t.epoch, PackStr("old"), f.agent).ok());
    return std::any(t);
  };
  auto checkpoints = [](Pool& p) {
    Query q;
    q.segments = {"checkpoints"};
    return p.Find(q).value().size();
  };
  for (const char* step : {"begin", "after_drop", "after_data", "before_commit", "after_commit"}) {
    out.push_back({std::string("checkpoint.") + step, checkpointed,
                   [](Pool& p, Fixture& f, int, const std::any& ctx) {
                     const TaskInfo t = std::any_cast<TaskInfo>(ctx);
                     (void)p.SaveCheckpoint(t.id, t.epoch, PackStr("new"), f.agent);
                   },
                   [=](Pool& p, Fixture& f, int round, const std::any& ctx, bool done) {
                     const TaskInfo t = std::any_cast<TaskInfo>(ctx);
                     EXPECT_EQ(checkpoints(p), 1u);
                     EXPECT_EQ(UnpackStr(p.LastCheckpoint(t.id)->payload), done ? "new" : "old");
                     ASSERT_TRUE(p.Complete(t.id, t.epoch, ResultFor(round), f.agent).ok());
                     EXPECT_EQ(checkpoints(p), 0u);
                   }});
  }
  out.push_back({"complete.after_drop", checkpointed,
                 [](Pool& p, Fixture& f, int round, const std::any& ctx) {
                   const TaskInfo t = std::any_cast<TaskInfo>(ctx);
                   (void)p.Complete(t.id, t.epoch, ResultFor(round), f.agent);
                 },
                 [=](Pool& p, Fixture& f, int round, const std::any& ctx, bool) {
                   const TaskInfo t = std::any_cast<TaskInfo>(ctx);
                   EXPECT_EQ(p.GetTask(t.id)->state, TaskState::kRunning);
                   EXPECT_EQ(checkpoints(p), 1u) << "rolled back whole";
                   ASSERT_TRUE(p.Complete(t.id, t.epoch, ResultFor(round), f.agent).ok());
                   EXPECT_EQ(checkpoints(p), 0u);
                   EXPECT_FALSE(p.GetTask(t.id)->checkpointed);
                 }});
  return out;
}

// The lead: a new term taken from a holder whose lease ran out, in one
// transaction. Each round a fresh supervisor takes it over.
std::vector<Scenario> LeadScenarios() {
  std::vector<Scenario> out;
  struct Ctx {
    AgentRef next;
    uint64_t term;
  };
  for (const char* step : {"begin", "before_commit", "after_commit"}) {
    out.push_back({std::string("lead.") + step,
                   [](Fixture& f, int round) {
                     const AgentRef next = *f.pool->RegisterAgent(
                         {"sup-" + std::to_string(round), {}, 0, AgentRole::kSupervisor});
                     const uint64_t term = f.pool->Leader()->term;
                     std::this_thread::sleep_for(std::chrono::milliseconds(3));  // 1 ms leases
                     return std::any(Ctx{next, term});
                   },
                   [](Pool& p, Fixture&, int, const std::any& ctx) {
                     (void)p.AcquireLeadership(std::any_cast<Ctx>(ctx).next, 1ms);
                   },
                   [](Pool& p, Fixture&, int, const std::any& ctx, bool done) {
                     const Ctx c = std::any_cast<Ctx>(ctx);
                     const LeaderInfo lead = *p.Leader();
                     EXPECT_EQ(lead.term, done ? c.term + 1 : c.term);
                     EXPECT_EQ(lead.holder == c.next, done);
                     // Whoever holds it now, the next round takes it over.
                     if (!done) {
                       ASSERT_EQ(*p.AcquireLeadership(c.next, 1ms), c.term + 1);
                     }
                   }});
  }
  return out;
}

std::vector<Scenario> AllScenarios() {
  std::vector<Scenario> all;
  for (auto part : {WriteScenarios(), ClaimScenarios(), CompleteScenarios(),
                    PlanScenarios(), ReviewScenarios(), CheckpointScenarios(),
                    EntryScenarios(), LeadScenarios()})
    all.insert(all.end(), part.begin(), part.end());
  return all;
}

INSTANTIATE_TEST_SUITE_P(AllPoints, CrashTest, ::testing::ValuesIn(AllScenarios()),
                         [](const auto& param_info) {
                           std::string n = param_info.param.point;
                           for (char& c : n)
                             if (c == '.') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace slate
