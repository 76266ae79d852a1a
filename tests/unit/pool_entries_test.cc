#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "slate/clock.h"
#include "slate/pool.h"
#include "slate/internal/layout.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using testing::MakeEntry;
using testing::PackStr;
using testing::ScopedPool;

std::vector<EntryId> Ids(const std::vector<Entry>& es) {
  std::vector<EntryId> out;
  for (const auto& e : es) out.push_back(e.id);
  return out;
}

class PoolEntriesTest : public ::testing::Test {
 protected:
  EntryId Put(const std::string& seg, std::vector<std::string> tags = {},
              float importance = 0.5f, const std::string& author = "t") {
    auto id = sut->Write(MakeEntry(seg, std::move(tags), importance, author));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  std::vector<EntryId> FindIds(const Query& q) {
    auto r = sut->Find(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(*r) : std::vector<EntryId>{};
  }
  ScopedPool sut{"entries"};
};

TEST_F(PoolEntriesTest, WriteThenReadReturnsEveryField) {
  const int64_t before = NowRealNs();
  NewEntry e = MakeEntry("notes", {"x", "y"}, 0.75f, "alice", "payload");
  auto id = sut->Write(e);
  ASSERT_TRUE(id.ok());
  auto got = sut->Read(*id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, *id);
  EXPECT_EQ(got->segment, "notes");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_FLOAT_EQ(got->importance, 0.75f);
  EXPECT_EQ(got->author, "alice");
  EXPECT_EQ(testing::UnpackStr(got->payload), "payload");
  EXPECT_GE(got->created_ns, before);
  EXPECT_EQ(got->created_ns, got->updated_ns);
  EXPECT_FALSE(got->live);
}

TEST_F(PoolEntriesTest, IdsAreMonotonicAndNeverReused) {
  const EntryId a = Put("s");
  const EntryId b = Put("s");
  ASSERT_TRUE(sut->Erase(b).ok());
  const EntryId c = Put("s");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(sut->Read(b).status().code(), StatusCode::kNotFound);
}

TEST_F(PoolEntriesTest, LargePayloadSpansManyBlocksIntact) {
  std::string big(60000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  NewEntry e = MakeEntry("blobs");
  e.payload = PackStr(big);
  auto id = sut->Write(e);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(testing::UnpackStr(sut->Read(*id)->payload), big);
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(PoolEntriesTest, EmptyPayloadAndNoTagsAreFine) {
  NewEntry e;
  e.segment = "bare";
  auto id = sut->Write(e);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(sut->Read(*id)->payload.empty());
}

TEST_F(PoolEntriesTest, EveryInvalidEntryIsRefusedWithAReason) {
  struct Case {
    const char* what;
    std::function<void(NewEntry&)> mutate;
  };
  const std::vector<Case> cases = {
      {"segment", [](NewEntry& e) { e.segment = "bad seg"; }},
      {"tags", [](NewEntry& e) { e.tags = std::vector<std::string>(9, "t"); }},
      {"64 bytes", [](NewEntry& e) { e.tags = {std::string(65, 't')}; }},
      {"importance", [](NewEntry& e) { e.importance = 2.0f; }},
      {"author", [](NewEntry& e) { e.author = std::string(65, 'a'); }},
      {"msgpack", [](NewEntry& e) { e.payload = {0xc1}; }},
      {"at most", [](NewEntry& e) { e.payload = PackStr(std::string(70000, 'p')); }},
      {"PostTask", [](NewEntry& e) { e.segment = "tasks"; }},
      {"RegisterAgent", [](NewEntry& e) { e.segment = "agents"; }},
  };
  for (const auto& c : cases) {
    NewEntry e = MakeEntry("ok");
    c.mutate(e);
    auto r = sut->Write(e);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(r.status().message().find(c.what), std::string::npos)
        << c.what << " not in: " << r.status().message();
  }
  EXPECT_EQ(sut->Stats()->entries, 0u);
}

TEST_F(PoolEntriesTest, UpdateChangesOnlyWhatIsGiven) {
  const EntryId id = Put("notes", {"old"}, 0.2f, "bob");
  EntryUpdate u;
  u.importance = 0.9f;
  ASSERT_TRUE(sut->Update(id, u).ok());
  auto e = sut->Read(id);
  EXPECT_FLOAT_EQ(e->importance, 0.9f);
  EXPECT_EQ(e->tags, std::vector<std::string>{"old"});
  EntryUpdate u2;
  u2.tags = std::vector<std::string>{"new", "newer"};
  u2.payload = PackStr(std::string(500, 'z'));
  ASSERT_TRUE(sut->Update(id, u2).ok());
  e = sut->Read(id);
  EXPECT_EQ(e->tags, (std::vector<std::string>{"new", "newer"}));
  EXPECT_EQ(e->author, "bob");
  EXPECT_EQ(testing::UnpackStr(e->payload), std::string(500, 'z'));
  EXPECT_GE(e->updated_ns, e->created_ns);
  Query q;
  q.all_tags = {"old"};
  EXPECT_TRUE(FindIds(q).empty());
  q.all_tags = {"newer"};
  EXPECT_EQ(FindIds(q), std::vector<EntryId>{id});
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(PoolEntriesTest, UpdateAndEraseOfMissingEntriesSayNotFound) {
  EntryUpdate u;
  u.importance = 0.1f;
  EXPECT_EQ(sut->Update(42, u).code(), StatusCode::kNotFound);
  EXPECT_EQ(sut->Erase(42).code(), StatusCode::kNotFound);
  u.importance = -1.0f;
  EXPECT_EQ(sut->Update(42, u).code(), StatusCode::kInvalidArgument);
}

TEST_F(PoolEntriesTest, QueryBySegmentsTagsImportanceAuthorCursorLimit) {
  const EntryId a = Put("s1", {"red", "big"}, 0.9f, "ann");
  const EntryId b = Put("s2", {"red"}, 0.1f, "bob");
  const EntryId c = Put("s1", {"blue", "big"}, 0.5f, "bob");
  const EntryId d = Put("s3", {"green"}, 0.7f, "ann");
  Query q;
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{a, b, c, d}));
  q.segments = {"s1", "s2"};
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{a, b, c}));
  q.segments = {"nope"};
  EXPECT_TRUE(FindIds(q).empty());
  q = {};
  q.all_tags = {"red", "big"};
  EXPECT_EQ(FindIds(q), std::vector<EntryId>{a});
  q = {};
  q.any_tags = {"blue", "green"};
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{c, d}));
  q = {};
  q.all_tags = {"big"};
  q.any_tags = {"blue", "nothing"};
  EXPECT_EQ(FindIds(q), std::vector<EntryId>{c});
  q = {};
  q.min_importance = 0.6f;
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{a, d}));
  q = {};
  q.exclude_author = "bob";
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{a, d}));
  q = {};
  q.after_id = b;
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{c, d}));
  q.limit = 1;
  EXPECT_EQ(FindIds(q), std::vector<EntryId>{c});
}

TEST_F(PoolEntriesTest, CursorStillWorksAfterItsEntryIsErased) {
  const EntryId a = Put("s");
  const EntryId b = Put("s");
  const EntryId c = Put("s");
  ASSERT_TRUE(sut->Erase(b).ok());
  Query q;
  q.after_id = b;
  EXPECT_EQ(FindIds(q), std::vector<EntryId>{c});
  q.after_id = a;
  EXPECT_EQ(FindIds(q), std::vector<EntryId>{c});
}

TEST_F(PoolEntriesTest, OrderByImportanceThenRecency) {
  const EntryId a = Put("s", {}, 0.5f);
  const EntryId b = Put("s", {}, 0.9f);
  const EntryId c = Put("s", {}, 0.5f);
  const EntryId d = Put("s", {}, 0.1f);
  Query q;
  q.order = QueryOrder::kByImportanceThenRecency;
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{b, c, a, d}));
  q.limit = 2;
  EXPECT_EQ(FindIds(q), (std::vector<EntryId>{b, c}));
}

TEST_F(PoolEntriesTest, WaitTimesOutEmptyWithoutMatches) {
  Put("other");
  Query q;
  q.segments = {"wanted"};
  const auto start = std::chrono::steady_clock::now();
  auto r = sut->Wait(q, 80ms);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 70ms);
}

TEST_F(PoolEntriesTest, WaitWakesWhenAMatchArrivesFromAnotherThread) {
  Query q;
  q.segments = {"wanted"};
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    Put("other");
    Put("wanted", {"hit"});
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = sut->Wait(q, 5s);
  writer.join();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().tags, std::vector<std::string>{"hit"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// FindInto and WaitInto replace what the vector held, whatever it held
// before (longer, shorter, other payloads), and leave it empty on error.
TEST_F(PoolEntriesTest, FindIntoReplacesTheVectorsContentsAndEmptiesItOnError) {
  NewEntry big = MakeEntry("a", {"x", "y"}, 0.5f, "big-author");
  big.payload = PackStr(std::string(3000, 'p'));
  const EntryId first = *sut->Write(big);
  const EntryId second = Put("a", {"z"});
  Put("b");
  Query q;
  q.segments = {"a"};
  std::vector<Entry> out;
  ASSERT_TRUE(sut->FindInto(q, &out).ok());
  ASSERT_EQ(Ids(out), (std::vector<EntryId>{first, second}));
  EXPECT_EQ(out[0].payload, big.payload);
  EXPECT_EQ(out[0].author, "big-author");
  q.after_id = first;  // one entry now, into the same two-entry vector
  ASSERT_TRUE(sut->FindInto(q, &out).ok());
  ASSERT_EQ(Ids(out), std::vector<EntryId>{second});
  EXPECT_EQ(out[0].tags, std::vector<std::string>{"z"});
  EXPECT_EQ(out[0].payload, PackStr("x"));
  EXPECT_EQ(out[0].author, "t");
  q.segments = {"b"};
  ASSERT_TRUE(sut->WaitInto(q, 10ms, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].segment, "b");
  q.min_importance = std::nanf("");
  EXPECT_EQ(sut->FindInto(q, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

// A reused vector that shrinks and grows again gets recycled payload
// buffers in its new entries: what they held before must never show.
TEST_F(PoolEntriesTest, FindIntoGrowingAReusedVectorShowsOnlyTheNewEntries) {
  std::vector<EntryId> ids;
  for (int i = 0; i < 3; ++i) {
    NewEntry e = MakeEntry("a", {}, 0.5f, "first-" + std::to_string(i));
    e.payload = PackStr(std::string(200, static_cast<char>('a' + i)));
    ids.push_back(*sut->Write(e));
  }
  Query q;
  q.segments = {"a"};
  std::vector<Entry> out;
  ASSERT_TRUE(sut->FindInto(q, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  q.after_id = ids[1];  // shrinks to one: two buffers go spare
  ASSERT_TRUE(sut->FindInto(q, &out).ok());
  ASSERT_EQ(Ids(out), std::vector<EntryId>{ids[2]});
  const EntryId tagged = Put("a", {"t1", "t2"}, 0.25f, "second");
  const EntryId bare = Put("a");
  q.after_id = ids[1];  // grows to three again
  q.with_payload = false;
  ASSERT_TRUE(sut->FindInto(q, &out).ok());
  ASSERT_EQ(Ids(out), (std::vector<EntryId>{ids[2], tagged, bare}));
  for (const Entry& e : out) EXPECT_TRUE(e.payload.empty()) << e.id;
  EXPECT_EQ(out[1].tags, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_TRUE(out[2].tags.empty());
  EXPECT_EQ(out[1].author, "second");
  EXPECT_FLOAT_EQ(out[1].importance, 0.25f);
  q.with_payload = true;
  ASSERT_TRUE(sut->FindInto(q, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].payload, PackStr(std::string(200, 'c')));
  EXPECT_EQ(out[1].payload, PackStr("x"));
  EXPECT_EQ(out[2].payload, PackStr("x"));
}

TEST_F(PoolEntriesTest, ErrorsStayLiveUntilResolvedResultsAreNotPinned) {
  const EntryId err = Put("errors");
  const EntryId res = Put("results");
  EXPECT_TRUE(sut->Read(err)->live);
  EXPECT_FALSE(sut->Read(res)->live);
  ASSERT_TRUE(sut->Resolve(err).ok());
  EXPECT_FALSE(sut->Read(err)->live);
  EXPECT_EQ(sut->Resolve(res).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(PoolEntriesTest, TooManySegmentsIsAClearError) {
  for (int i = 0; i < 32 - static_cast<int>(internal::kBuiltinSegments); ++i) Put("user" + std::to_string(i));
  auto r = sut->Write(MakeEntry("one-too-many"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPoolFull);
  EXPECT_NE(r.status().message().find("32 segments"), std::string::npos);
}

}  // namespace
}  // namespace slate

namespace slate {
namespace {

TEST(PoolKeepTest, KeptEntriesAreNeverEvictedUntilReleased) {
  PoolOptions o = testing::SmallOptions("keep");
  o.slot_capacity = 16;
  testing::ScopedPool sut(o);
  NewEntry kept = MakeEntry("requests", {}, 0.0f);
  kept.keep = true;
  const EntryId id = sut->Write(kept).value();
  EXPECT_TRUE(sut->Read(id)->live);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(sut->Write(MakeEntry("noise", {}, 0.9f)).ok());
  EXPECT_TRUE(sut->Read(id).ok());
  ASSERT_TRUE(sut->Release(id).ok());
  EXPECT_FALSE(sut->Read(id)->live);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(sut->Write(MakeEntry("noise", {}, 0.9f)).ok());
  EXPECT_EQ(sut->Read(id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(sut->Check().empty());
}

TEST(PoolKeepTest, QueryWithoutPayloadsLeavesThemEmpty) {
  testing::ScopedPool sut("nopayload");
  ASSERT_TRUE(sut->Write(MakeEntry("s", {"a"})).ok());
  Query q;
  q.with_payload = false;
  auto r = sut->Find(q).value();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].payload.empty());
  EXPECT_EQ(r[0].tags, std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace slate
