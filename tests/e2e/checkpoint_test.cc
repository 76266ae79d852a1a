// Checkpoints end to end: a command that counts to 10 in 0.1 s steps,
// saving each step on its meta descriptor, is interrupted three ways
// (preempted by urgent work, its worker SIGKILLed, a failed attempt) and
// its next attempt goes on from the last step saved.
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "e2e/group_fixture.h"
#include "slate/json_payload.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

// Payload "count" counts; "fail" also fails its first attempt at step 4;
// "gate" takes 0.5 s; anything else answers at once.
constexpr const char* kCounter =
    "read p; case \"$p\" in *count*|*fail*) ;; *gate*) sleep 0.5; echo '\"gate\"'; exit 0;; "
    "*) echo '\"quick\"'; exit 0;; esac; "
    "i=${SLATE_RESUME:-0}; from=$i; "
    "while [ $i -lt 10 ]; do "
    "  if [ \"$p\" = fail ] && [ \"$SLATE_ATTEMPT\" = 1 ] && [ $i -eq 4 ]; then exit 1; fi; "
    "  sleep 0.1; i=$((i+1)); echo \"{\\\"checkpoint\\\": $i}\" >&3; "
    "done; echo \"{\\\"from\\\": $from, \\\"to\\\": $i}\"";

using CheckpointTest = GroupTest;

TEST_F(CheckpointTest, ARetryGoesOnFromTheFailedAttemptsLastCheckpoint) {
  json out;
  const auto r = Launch({"--workers", "1", "--shell", "--exec", kCounter, "--keep",
                         Jsonl("retry.jsonl", {{{"id", "t"}, {"payload", "fail"}}})},
                        &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json t = ById(out)["t"];
  EXPECT_EQ(t["attempts"], 2);
  EXPECT_EQ(t["result"], (json{{"from", 4}, {"to", 10}})) << t.dump();
  // The task is done: its checkpoint went with it.
  auto kept = Pool::Open(pool, OpenMode::kReadOnly);
  ASSERT_TRUE(kept.ok());
  Query q;
  q.segments = {"checkpoints"};
  EXPECT_TRUE((*kept)->Find(q)->empty());
  EXPECT_TRUE((*kept)->Check().empty());
  kept->reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
}

TEST_F(CheckpointTest, AfterItsWorkerIsKilledTheTaskGoesOnFromItsLastCheckpoint) {
  json out;
  std::thread run([&] {
    const auto r = Launch({"--workers", "1", "--shell", "--exec", kCounter,
                           Jsonl("kill.jsonl", {{{"id", "t"}, {"payload", "count"}}})},
                          &out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  });
  // Once step 3 is saved, SIGKILL the worker; the launcher restarts it.
  int64_t saved = 0;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (saved < 3 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
    auto p = Pool::Open(pool, OpenMode::kReadOnly);
    if (!p.ok()) continue;
    Query q;
    q.segments = {"checkpoints"};
    if (auto found = (*p)->Find(q); found.ok() && !found->empty())
      saved = PayloadToJson(found->front().payload)->get<int64_t>();
  }
  ASSERT_GE(saved, 3) << "no checkpoint came";
  const auto workers = MembersRunning(pool, "slate-worker");
  ASSERT_EQ(workers.size(), 1u);
  kill(workers[0], SIGKILL);
  run.join();
  const json t = ById(out)["t"];
  EXPECT_EQ(t["status"], "done");
  EXPECT_EQ(t["attempts"], 2);
  EXPECT_GE(t["result"]["from"].get<int64_t>(), saved) << t.dump();
  EXPECT_EQ(t["result"]["to"], 10);
}

// A plan step's envelope carries the checkpoint as "resume".
TEST_F(CheckpointTest, APlanStepFindsItInItsEnvelope) {
  json out;
  const auto r = Launch(
      {"--workers", "1", "--shell", "--exec",
       "env=$(cat); if [ \"$SLATE_ATTEMPT\" = 1 ]; then "
       "echo '{\"checkpoint\": {\"x\": 1}}' >&3; exit 1; fi; printf '%s' \"$env\"",
       Jsonl("plan.jsonl", {{{"id", "a"}, {"payload", 1}},
                            {{"id", "b"}, {"payload", 2}, {"depends_on", {"a"}}}})},
      &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* id : {"a", "b"}) {
    const json t = ById(out)[id];
    EXPECT_EQ(t["attempts"], 2) << id;
    EXPECT_EQ(t["result"]["resume"], (json{{"x", 1}})) << t.dump();
  }
}

// One worker can take the urgent line and the low one; another only takes
// the line the urgent one waits for. When that finishes, the low line is
// half counted: it is preempted, and counts on from there afterwards.
TEST_F(CheckpointTest, APreemptedTaskGoesOnFromWhereItStopped) {
  json out;
  const auto r = Launch(
      {"--workers", "1", "--capability", "main", "--worker-group", "1:gate", "--shell", "--exec",
       kCounter,
       Jsonl("preempt.jsonl",
             {{{"id", "low"}, {"payload", "count"}, {"requires", "main"}},
              {{"id", "gate"}, {"payload", "gate"}, {"requires", "gate"},
               {"priority", 50}},
              {{"id", "urgent"}, {"payload", "quick"}, {"requires", "main"}, {"priority", 100},
               {"depends_on", {"gate"}}}})},
      &out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json low = ById(out)["low"];
  EXPECT_EQ(low["status"], "done");
  EXPECT_EQ(low["attempts"], 2) << low.dump();
  ASSERT_TRUE(low.contains("failures"));
  EXPECT_TRUE(low["failures"][0].value("preempted", false)) << low.dump();
  EXPECT_GT(low["result"]["from"].get<int64_t>(), 0) << "started over: " << low.dump();
  EXPECT_EQ(low["result"]["to"], 10);
  EXPECT_EQ(out["summary"]["preempted"], 1);
}

}  // namespace
}  // namespace slate::testing
