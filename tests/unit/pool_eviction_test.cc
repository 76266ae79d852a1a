#include <gtest/gtest.h>

#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using testing::MakeEntry;
using testing::ScopedPool;

PoolOptions Tiny(const std::string& tag, uint32_t slots) {
  PoolOptions o = testing::SmallOptions(tag);
  o.slot_capacity = slots;
  return o;
}

TEST(PoolEvictionTest, FullPoolEvictsLeastImportantThenOldest) {
  ScopedPool sut(Tiny("evict", 16));
  std::vector<EntryId> ids;
  for (int i = 0; i < 16; ++i) {
    const float imp = (i == 3 || i == 9) ? 0.1f : 0.5f;
    ids.push_back(*sut->Write(MakeEntry("s", {}, imp)));
  }
  auto next = sut->Write(MakeEntry("s", {}, 0.5f));
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(sut->Read(ids[3]).ok());  // least important, older of the two
  EXPECT_TRUE(sut->Read(ids[9]).ok());
  ASSERT_TRUE(sut->Write(MakeEntry("s", {}, 0.5f)).ok());
  EXPECT_FALSE(sut->Read(ids[9]).ok());
  ASSERT_TRUE(sut->Write(MakeEntry("s", {}, 0.5f)).ok());
  EXPECT_FALSE(sut->Read(ids[0]).ok());  // then the oldest of equal importance
  EXPECT_TRUE(sut->Read(ids[1]).ok());
  auto st = sut->Stats();
  EXPECT_EQ(st->evictions, 3u);
  EXPECT_EQ(st->segments.back().name, "s");
  EXPECT_EQ(st->segments.back().evictions, 3u);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(PoolEvictionTest, LiveEntriesAreNeverEvictedAndFullIsClear) {
  ScopedPool sut(Tiny("pinned", 16));
  std::vector<EntryId> errors;
  for (int i = 0; i < 15; ++i)
    errors.push_back(*sut->Write(MakeEntry("errors", {}, 0.0f)));
  const EntryId plain = *sut->Write(MakeEntry("s", {}, 1.0f));
  ASSERT_TRUE(sut->Write(MakeEntry("s", {}, 1.0f)).ok());  // evicts `plain`
  EXPECT_FALSE(sut->Read(plain).ok());
  // Now 15 live errors and one evictable entry: fill, then refuse.
  auto r = sut->Write(MakeEntry("errors"));
  ASSERT_TRUE(r.ok());
  auto full = sut->Write(MakeEntry("s"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), StatusCode::kPoolFull);
  EXPECT_NE(full.status().message().find("nothing left to evict"), std::string::npos);
  for (EntryId e : errors) EXPECT_TRUE(sut->Read(e).ok());
  // Resolving one makes room again.
  ASSERT_TRUE(sut->Resolve(errors[0]).ok());
  EXPECT_TRUE(sut->Write(MakeEntry("s")).ok());
  EXPECT_FALSE(sut->Read(errors[0]).ok());
  EXPECT_TRUE(sut->Check().empty());
}

TEST(PoolEvictionTest, DataSpaceIsReclaimedByEvictionToo) {
  PoolOptions o = testing::SmallOptions("bytes");
  o.data_bytes = 256 << 10;
  o.max_payload = 64 << 10;
  ScopedPool sut(o);
  NewEntry big = MakeEntry("blobs");
  big.payload = testing::PackStr(std::string(60000, 'b'));
  std::vector<EntryId> ids;
  for (int i = 0; i < 20; ++i) {
    auto id = sut->Write(big);
    ASSERT_TRUE(id.ok()) << i << ": " << id.status().ToString();
    ids.push_back(*id);
  }
  EXPECT_FALSE(sut->Read(ids[0]).ok());
  EXPECT_TRUE(sut->Read(ids.back()).ok());
  EXPECT_GT(sut->Stats()->evictions, 10u);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(PoolEvictionTest, UnfinishedTasksAndAgentsArePinned) {
  ScopedPool sut(Tiny("tasks", 16));
  auto agent = sut->RegisterAgent({"w1", {}, 0});
  ASSERT_TRUE(agent.ok());
  std::vector<TaskId> tasks;
  for (int i = 0; i < 15; ++i) {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.0f);
    auto id = sut->PostTask(t);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    tasks.push_back(*id);
  }
  TaskSpec t;
  t.entry = MakeEntry("tasks");
  EXPECT_EQ(sut->PostTask(t).status().code(), StatusCode::kPoolFull);
  for (TaskId id : tasks) EXPECT_TRUE(sut->GetTask(id).ok());
  EXPECT_EQ(sut->ListAgents(std::chrono::seconds(10))->size(), 1u);
}

}  // namespace
}  // namespace slate
