// Authors kept once per pool (author_table.h): an entry names its author by
// row once the pool has one, reads back the same name either way, and a
// death or a scribble costs no entry its author.
#include "slate/internal/author_table.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "slate/internal/crash_point.h"
#include "slate/internal/pool_impl.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using testing::Mentions;
using namespace std::chrono_literals;
using internal::kAuthorRows;
using testing::MakeEntry;

class AuthorTableTest : public ::testing::Test {
 protected:
  EntryId WriteBy(const std::string& author, Pool* p = nullptr) {
    auto id = (p != nullptr ? *p : *sut).Write(MakeEntry("notes", {"n"}, 0.5f, author, "body"));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  uint32_t DataBytes(EntryId id) {
    const testing::RawView v(sut.name());
    return v.r().slot(v.SlotOf(id)).data_bytes;
  }
  uint32_t Used() {
    const testing::RawView v(sut.name());
    return v.r().header().counters.authors_used;
  }
  testing::ScopedPool sut{"authors"};
};

TEST_F(AuthorTableTest, ARepeatedAuthorIsKeptOnceAndReadsBackTheSame) {
  const EntryId first = WriteBy("alice");
  const EntryId second = WriteBy("alice");
  const EntryId third = WriteBy("alice");
  const EntryId other = WriteBy("bob");
  // The first write carries its author and gives it a row; later ones name the row.
  EXPECT_EQ(DataBytes(first), DataBytes(second) + 5);
  EXPECT_EQ(DataBytes(second), DataBytes(third));
  EXPECT_EQ(Used(), 2u);
  for (EntryId id : {first, second, third}) EXPECT_EQ(sut->Read(id)->author, "alice");
  EXPECT_EQ(sut->Read(other)->author, "bob");
  Query by;
  by.segments = {"notes"};
  by.author = "alice";
  EXPECT_EQ(sut->Find(by)->size(), 3u);
  by.author.clear();
  by.exclude_author = "alice";
  ASSERT_EQ(sut->Find(by)->size(), 1u);
  EXPECT_EQ(sut->Find(by)->front().id, other);
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(AuthorTableTest, AnUpdateRewritesTheDataWithTheRow) {
  const EntryId first = WriteBy("alice");  // carries its author
  const EntryId second = WriteBy("alice");
  EntryUpdate u;
  u.payload = testing::PackStr("body");  // the same size
  ASSERT_TRUE(sut->Update(first, u).ok());
  EXPECT_EQ(DataBytes(first), DataBytes(second));
  EXPECT_EQ(sut->Read(first)->author, "alice");
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(AuthorTableTest, TasksAndResultsNameTheirAuthorsByRow) {
  const AgentRef w = *sut->RegisterAgent({"worker-7", {}, 0});
  std::vector<TaskId> tasks;
  for (int i = 0; i < 3; ++i) {
    TaskSpec t;
    t.entry = MakeEntry("tasks", {}, 0.5f, "supervisor", "t" + std::to_string(i));
    t.assignee = w;
    tasks.push_back(*sut->PostTask(t));
  }
  EXPECT_EQ(DataBytes(tasks[0]), DataBytes(tasks[1]) + 10);
  std::vector<EntryId> results;
  for (int i = 0; i < 3; ++i) {
    const Claim c = **sut->ClaimNext(w, 5s);
    EXPECT_EQ(c.entry.author, "supervisor");
    TaskResult r;
    r.payload = testing::PackStr("r");
    results.push_back(*sut->Complete(c.task.id, c.task.epoch, r, w));
  }
  EXPECT_EQ(DataBytes(results[0]), DataBytes(results[1]) + 8);
  for (EntryId id : results) EXPECT_EQ(sut->Read(id)->author, "worker-7");
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(AuthorTableTest, AnotherAttachmentUsesTheRowsAlreadyPublished) {
  WriteBy("alice");
  const EntryId interned = WriteBy("alice");
  auto other = Pool::Open(sut.name());
  ASSERT_TRUE(other.ok());
  const EntryId first_of_other = WriteBy("alice", other->get());
  EXPECT_EQ(DataBytes(first_of_other), DataBytes(interned));
  EXPECT_EQ((*other)->Read(first_of_other)->author, "alice");
  EXPECT_EQ(Used(), 1u);
}

// The per-thread memo of rows is per attachment: the same author has
// different rows in different pools.
TEST_F(AuthorTableTest, TwoPoolsInOneThreadKeepTheirOwnRows) {
  testing::ScopedPool other("authors-other");
  WriteBy("bob", &*other);  // bob takes row 0 there
  WriteBy("bob", &*other);
  for (int round = 0; round < 3; ++round) {
    const EntryId here = WriteBy("alice");  // row 0 here
    const EntryId there = WriteBy("alice", &*other);  // row 1 there
    EXPECT_EQ(sut->Read(here)->author, "alice");
    EXPECT_EQ(other->Read(there)->author, "alice");
  }
  EXPECT_TRUE(sut->Check().empty());
  EXPECT_TRUE(other->Check().empty());
}

TEST_F(AuthorTableTest, PastAFullTableAuthorsStayInTheirEntries) {
  for (uint32_t i = 0; i < kAuthorRows; ++i) WriteBy("a" + std::to_string(i));
  EXPECT_EQ(Used(), kAuthorRows);
  const EntryId a = WriteBy("latecomer");
  const EntryId b = WriteBy("latecomer");
  EXPECT_EQ(DataBytes(a), DataBytes(b));  // both carry it
  EXPECT_EQ(Used(), kAuthorRows);
  EXPECT_EQ(sut->Read(b)->author, "latecomer");
  const EntryId early = WriteBy("a0");
  EXPECT_EQ(DataBytes(early) + 9, DataBytes(b));  // still by row
  EXPECT_EQ(sut->Read(early)->author, "a0");
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(AuthorTableTest, ADeathBeforeTheCommitTakesTheNewRowWithIt) {
  WriteBy("alice");
  const uint64_t recoveries = sut->Stats()->recoveries;
  const pid_t child = testing::ForkChild([&] {
    auto p = Pool::Open(sut.name());
    if (!p.ok()) return 2;
    internal::TEST_ArmCrashPoint("write.before_commit");
    (void)(*p)->Write(MakeEntry("notes", {}, 0.5f, "zed", "lost"));
    return 3;
  });
  const int status = testing::WaitChild(child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(sut->Stats()->recoveries, recoveries + 1);
  EXPECT_EQ(Used(), 1u);
  const auto problems = sut->Check();
  EXPECT_TRUE(problems.empty()) << problems.front();
  const EntryId zed = WriteBy("zed");
  EXPECT_EQ(Used(), 2u);
  EXPECT_EQ(sut->Read(zed)->author, "zed");
  EXPECT_EQ(sut->Read(WriteBy("zed"))->author, "zed");
}

TEST_F(AuthorTableTest, RowsLeftUnpublishedByADeathArePublishedByTheRebuild) {
  WriteBy("alice");
  WriteBy("bob");
  const testing::RawView v(sut.name());
  // As if the holder that added bob's row died after its commit and
  // before it published the row.
  v.r().header().authors.published.store(1);
  EXPECT_TRUE(Mentions(sut->Check(), "author table publishes 1 rows of 2"));
  const EntryId bob = WriteBy("bob");  // not published: carried, and no second row
  EXPECT_EQ(Used(), 2u);
  EXPECT_EQ(sut->Read(bob)->author, "bob");
  internal::Rebuild(v.r());
  EXPECT_EQ(v.r().header().authors.published.load(), 2u);
  EXPECT_TRUE(sut->Check().empty());
}

TEST_F(AuthorTableTest, AScribbledRowIsReportedAndNeverReadPastItsRow) {
  const EntryId first = WriteBy("alice");
  const EntryId named = WriteBy("alice");
  const testing::RawView v(sut.name());
  internal::AuthorRow& row = v.r().header().authors.rows[0];
  row.name[0] = 'A';  // the name, not its hash: reads cannot tell, the checker can
  EXPECT_TRUE(Mentions(sut->Check(), "author row 0 does not hold the name its hash says"));
  row.name[0] = 'a';
  row.len = 200;  // a length past the row: the entries naming it are refused
  EXPECT_EQ(sut->Read(named).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Mentions(sut->Check(), "names author row 0, which does not hold its author"));
  EXPECT_EQ(sut->Read(first)->author, "alice");  // carries its own copy
  row.len = 5;
  EXPECT_EQ(sut->Read(named)->author, "alice");
  EXPECT_TRUE(sut->Check().empty());
}

}  // namespace
}  // namespace slate
