// The streamed result document: byte for byte what dumping the whole
// document would give, with every index of the request in it, whatever
// became of its task (done, dead-lettered, or lost to quarantine).
#include "request/aggregate.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "slate/internal/layout.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate::supervisor {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

TEST(AggregateTest, StreamedDocumentIsTheWholeDumpWithEveryIndex) {
  testing::ScopedPool pool("aggregate");
  const AgentRef w = *pool->RegisterAgent({"w", {}, 0});
  auto req = CreateRequest(*pool, "src.jsonl", SplitMode::kJsonLines, 5, "");
  ASSERT_TRUE(req.ok());
  std::vector<TaskDef> defs(5);
  for (int i = 0; i < 5; ++i) defs[i].payload = {{"n", i}, {"text", "caf\xc3\xa9\nline"}};
  defs[2].user_id = "third";
  ASSERT_TRUE(PostTasks(*pool, *req, defs, kSharedQueue, 2).ok());
  std::vector<TaskId> ids;
  for (int i = 0; i < 5; ++i) {
    auto c = pool->ClaimNext(w, 10s);
    ASSERT_TRUE(c.ok() && c->has_value());
    ids.push_back((*c)->task.id);
    if (i == 1) continue;  // stays running: dead-lettered below
    TaskResult r;
    r.payload = testing::PackStr("result " + std::to_string(i));
    ASSERT_TRUE(pool->Complete((*c)->task.id, (*c)->task.epoch, r).ok());
  }
  ASSERT_TRUE(pool->DeadLetter(ids[1], "gave up").ok());
  {  // a peer scribbles over task 3's id: the pool quarantines it when met
    const testing::RawView view(pool.name());
    const uint32_t at = view.SlotOf(ids[3]);
    ASSERT_NE(at, internal::kNil);
    reinterpret_cast<uint8_t*>(&view.r().slot(at))[offsetof(internal::Slot, id)] ^= 0x40;
  }

  std::ostringstream out;
  auto agg = WriteAggregate(*pool, *req, 1'500'000, out);

  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  const json doc = json::parse(out.str());
  EXPECT_EQ(doc.dump(2), out.str());
  ASSERT_EQ(doc["tasks"].size(), 5u);
  std::vector<std::string> statuses;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(doc["tasks"][i]["index"], i);
    statuses.push_back(doc["tasks"][i]["status"]);
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"done", "dead_lettered", "done", "lost", "done"}));
  EXPECT_EQ(doc["tasks"][2]["id"], "third");
  EXPECT_EQ(doc["tasks"][2]["result"], "result 2");
  EXPECT_EQ(doc["tasks"][1]["error"], "gave up");
  EXPECT_NE(doc["tasks"][3]["error"].get<std::string>().find("quarantined"), std::string::npos);
  EXPECT_EQ(doc["summary"]["done"], 3);
  EXPECT_EQ(doc["summary"]["dead_lettered"], 1);
  EXPECT_EQ(doc["summary"]["lost"], 1);
  EXPECT_EQ(doc["summary"]["lost_tasks"][0]["index"], 3);
  EXPECT_EQ(agg->summary, doc["summary"]);
  EXPECT_EQ(agg->results.size(), 3u);
}

TEST(AggregateTest, EmptyRequestIsAValidDocument) {
  testing::ScopedPool pool("aggregate-empty");
  auto req = CreateRequest(*pool, "none.jsonl", SplitMode::kJsonLines, 0, "");
  ASSERT_TRUE(req.ok());
  std::ostringstream out;
  ASSERT_TRUE(WriteAggregate(*pool, *req, 0, out).ok());
  const json doc = json::parse(out.str());
  EXPECT_EQ(doc.dump(2), out.str());
  EXPECT_TRUE(doc["tasks"].empty());
}

}  // namespace
}  // namespace slate::supervisor
