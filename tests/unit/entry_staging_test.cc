// Entries copied after the lock (StagedEntries::Note, CopyNoted): a copy is
// kept only if its slot held the noted version before and after its data
// was read; otherwise nothing is staged and the caller copies under the
// lock. Readers racing writers that free and reuse cells never see an
// entry torn between two versions.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "slate/internal/entry_staging.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using namespace std::chrono_literals;
using internal::StagedEntries;

// Version k of an entry: its tag names k, and its payload's length and
// bytes depend on k, so a copy mixing two versions (or another entry's
// reused cells) does not decode to one consistent k.
std::string VersionPayload(int k) {
  return std::string(20 + (k * 37) % 300, static_cast<char>('a' + k % 26)) + ":" +
         std::to_string(k);
}
EntryUpdate Version(int k) {
  EntryUpdate u;
  u.tags = std::vector<std::string>{"v" + std::to_string(k)};
  u.payload = testing::PackStr(VersionPayload(k));
  return u;
}
// Whether e is one whole version.
bool Consistent(const Entry& e) {
  if (e.tags.size() != 1 || e.tags[0].size() < 2 || e.tags[0][0] != 'v') return false;
  int k = 0;
  const char* end = e.tags[0].data() + e.tags[0].size();
  if (std::from_chars(e.tags[0].data() + 1, end, k).ptr != end) return false;
  try {
    return testing::UnpackStr(e.payload) == VersionPayload(k);
  } catch (const std::exception&) {  // not even msgpack
    return false;
  }
}

class EntryStagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 8; ++i) {
      NewEntry e = testing::MakeEntry("notes", {"v" + std::to_string(i)});
      e.payload = testing::PackStr(VersionPayload(i));
      ids.push_back(*sut->Write(e));
    }
  }
  // Notes every entry of `ids`, as a lock holder would.
  void NoteAll(StagedEntries& staged) {
    for (EntryId id : ids) staged.Note(view.r(), view.SlotOf(id));
  }

  testing::ScopedPool sut{"staging"};
  testing::RawView view{sut.name()};
  std::vector<EntryId> ids;
};

TEST_F(EntryStagingTest, UnchangedNotedEntriesAreCopiedAsTheyAre) {
  StagedEntries staged;
  NoteAll(staged);
  ASSERT_TRUE(staged.CopyNoted(view.r(), true));
  ASSERT_EQ(staged.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    Entry e;
    staged.Materialize(i, view.r(), &e);
    EXPECT_EQ(e.id, ids[i]);
    EXPECT_EQ(e.segment, "notes");
    EXPECT_EQ(e.tags, std::vector<std::string>{"v" + std::to_string(i)});
    EXPECT_EQ(testing::UnpackStr(e.payload), VersionPayload(static_cast<int>(i)));
  }
}

TEST_F(EntryStagingTest, AnEntryUpdatedAfterItWasNotedIsLeftToTheLock) {
  StagedEntries staged;
  NoteAll(staged);
  ASSERT_TRUE(sut->Update(ids[3], Version(100)).ok());
  const uint64_t refusals = internal::CopyNotedRefusals();

  EXPECT_FALSE(staged.CopyNoted(view.r(), true));

  EXPECT_EQ(staged.size(), 0u);  // nothing half-staged
  EXPECT_EQ(staged.noted().size(), ids.size());  // kept for the locked retry
  EXPECT_EQ(internal::CopyNotedRefusals(), refusals + 1);
}

TEST_F(EntryStagingTest, AnEntryErasedAndItsSlotReusedIsLeftToTheLock) {
  StagedEntries staged;
  NoteAll(staged);
  ASSERT_TRUE(sut->Erase(ids[5]).ok());
  ASSERT_TRUE(sut->Write(testing::MakeEntry("notes", {"other"})).ok());  // takes the slot

  EXPECT_FALSE(staged.CopyNoted(view.r(), true));
  EXPECT_EQ(staged.size(), 0u);
}

TEST_F(EntryStagingTest, AScribbledSlotIsLeftToTheLock) {
  StagedEntries staged;
  NoteAll(staged);
  // The inline data: not in the noted version bytes, but under the seal.
  view.r().slot(view.SlotOf(ids[2])).kind.raw[20] ^= 0xFF;

  EXPECT_FALSE(staged.CopyNoted(view.r(), true));
  EXPECT_EQ(staged.size(), 0u);
}

// A claim notes the task it just sealed. Its copy after the lock must
// catch every change since: to the version bytes (compared before and
// after), and to the kind bytes, where a task keeps the start of its data
// since layout 6 (the seal, checked on the copy).
TEST_F(EntryStagingTest, AClaimedTaskChangedOrScribbledAfterItWasNotedIsLeftToTheLock) {
  TaskSpec t;
  t.entry = testing::MakeEntry("tasks", {"job"});
  t.entry.payload = testing::PackStr("first");
  const TaskId task = *sut->PostTask(t);
  const uint32_t at = view.SlotOf(task);
  {
    StagedEntries staged;
    staged.Note(view.r(), at);
    ASSERT_TRUE(staged.CopyNoted(view.r(), true));
    Entry e;
    staged.Materialize(0, view.r(), &e);
    EXPECT_EQ(testing::UnpackStr(e.payload), "first");
  }
  {
    StagedEntries staged;
    staged.Note(view.r(), at);
    EntryUpdate u;
    u.payload = testing::PackStr("second, rewritten elsewhere");
    ASSERT_TRUE(sut->Update(task, u).ok());
    EXPECT_FALSE(staged.CopyNoted(view.r(), true));
  }
  {
    StagedEntries staged;
    staged.Note(view.r(), at);
    view.r().slot(at).created_ns ^= 1;
    EXPECT_FALSE(staged.CopyNoted(view.r(), true));
    view.r().slot(at).created_ns ^= 1;
  }
  {
    StagedEntries staged;
    staged.Note(view.r(), at);
    const uint32_t last = sizeof(view.r().slot(at).kind) - 1;  // inline data
    view.r().slot(at).kind.raw[last] ^= 1;
    EXPECT_FALSE(staged.CopyNoted(view.r(), true));
  }
}

// Through the API: a refused copy is made under the lock instead, for
// queries and for claims, and the caller sees no difference.
TEST_F(EntryStagingTest, RefusedCopiesAreMadeUnderTheLock) {
  const AgentRef w = *sut->RegisterAgent({"w", {}, 0});
  TaskSpec t;
  t.entry = testing::MakeEntry("tasks", {"job"});
  t.entry.payload = testing::PackStr("task payload");
  t.assignee = w;
  ASSERT_TRUE(sut->PostTask(t).ok());
  Query q;
  q.segments = {"notes"};
  q.limit = 0;

  internal::RefuseCopyNotedForTesting(2);
  const uint64_t refusals = internal::CopyNotedRefusals();
  auto found = sut->Find(q);
  auto claim = sut->ClaimNext(w, 10s);

  EXPECT_EQ(internal::CopyNotedRefusals(), refusals + 2);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), ids.size());
  for (const Entry& e : *found) EXPECT_TRUE(Consistent(e)) << e.id;
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_EQ((*claim)->entry.tags, std::vector<std::string>{"job"});
  EXPECT_EQ(testing::UnpackStr((*claim)->entry.payload), "task payload");
}

// A reader finding every entry, with payloads, while another party
// rewrites them as fast as it can: each rewrite frees the old cells and
// the next one reuses them. Every entry read is one whole version, and
// the race did happen (copies were refused and made under the lock). A
// failed or short read counts as torn.
void ReadWhileRewriting(Pool& reader, const std::vector<EntryId>& ids,
                        const std::atomic<bool>& writing, int* reads, int* torn) {
  Query q;
  q.segments = {"notes"};
  q.limit = 0;
  std::vector<Entry> found;
  while (writing.load()) {
    if (!reader.FindInto(q, &found).ok() || found.size() != ids.size()) ++*torn;
    for (const Entry& e : found) *torn += !Consistent(e);
    ++*reads;
  }
}

TEST_F(EntryStagingTest, ReadersRacingAnotherProcessRewritingNeverSeeATornEntry) {
  // The writer is a process of its own, as a group's members are.
  const pid_t writer = testing::ForkChild([&] {
    auto pool = Pool::Open(sut.name());
    if (!pool.ok()) return 2;
    const auto end = std::chrono::steady_clock::now() + 1500ms;
    for (int k = 100; std::chrono::steady_clock::now() < end; ++k)
      if (!(*pool)->Update(ids[static_cast<size_t>(k) % ids.size()], Version(k)).ok()) return 3;
    return 0;
  });
  std::atomic<bool> writing{true};
  std::thread watch([&] {
    const int status = testing::WaitChild(writer);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    writing = false;
  });
  const uint64_t refusals = internal::CopyNotedRefusals();
  int reads = 0, torn = 0;
  ReadWhileRewriting(*sut, ids, writing, &reads, &torn);
  watch.join();

  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
  EXPECT_GT(reads, 100);
  EXPECT_GT(internal::CopyNotedRefusals(), refusals) << reads << " reads, none raced";
}

// The same with the writer a thread of the reader's process, where
// ThreadSanitizer sees both sides: the copy's racy reads are declared.
TEST_F(EntryStagingTest, ReadersRacingAThreadRewritingNeverSeeATornEntry) {
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    const auto end = std::chrono::steady_clock::now() + 500ms;
    for (int k = 100; std::chrono::steady_clock::now() < end; ++k)
      EXPECT_TRUE(sut->Update(ids[static_cast<size_t>(k) % ids.size()], Version(k)).ok());
    writing = false;
  });
  int reads = 0, torn = 0;
  ReadWhileRewriting(*sut, ids, writing, &reads, &torn);
  writer.join();

  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
  EXPECT_GT(reads, 10);
}

}  // namespace
}  // namespace slate
