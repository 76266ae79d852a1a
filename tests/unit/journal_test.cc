#include "slate/internal/journal.h"

#include <gtest/gtest.h>

#include "slate/internal/slot_seal.h"
#include "util/heap_region.h"

namespace slate::internal {
namespace {

TEST(JournalTest, UndoRestoresSavedRangesNewestFirst) {
  testing::HeapRegion heap_region;
  const Region& r = heap_region.r();
  Slot& s = r.slot(5);
  s.id = 11;
  Reseal(s, 5);  // as a committed transaction would leave it
  const uint64_t next_id = r.header().counters.next_id;
  {
    Txn sut(r, OpCode::kWrite);
    sut.Save(s);
    s.id = 12;
    sut.Save(s);  // saved twice: the first copy wins on undo
    s.id = 13;
    r.header().counters.next_id += 5;
    // A holder dying here leaves the journal as it is; the next locker undoes.
    EXPECT_EQ(UndoJournal(r), 3);
    EXPECT_EQ(s.id, 11u);
    EXPECT_EQ(r.header().counters.next_id, next_id);
    sut.Commit();  // nothing left to commit; must not re-apply anything
  }
  EXPECT_EQ(r.header().journal.count.load(), 0u);
  EXPECT_EQ(s.id, 11u);
}

TEST(JournalTest, CommitKeepsChangesAndDestructorUndoesUncommitted) {
  testing::HeapRegion heap_region;
  const Region& r = heap_region.r();
  {
    Txn sut(r, OpCode::kUpdate);
    sut.Save(r.slot(1));
    r.slot(1).importance = 0.25f;
    sut.Commit();
  }
  EXPECT_FLOAT_EQ(r.slot(1).importance, 0.25f);
  {
    Txn sut(r, OpCode::kUpdate);
    sut.Save(r.slot(1));
    r.slot(1).importance = 0.75f;
  }  // error path: no commit
  EXPECT_FLOAT_EQ(r.slot(1).importance, 0.25f);
}

TEST(JournalTest, RecordsPointingOutsideTheAllowedRangesAreSkipped) {
  testing::HeapRegion heap_region;
  const Region& r = heap_region.r();
  Journal& j = r.header().journal;
  const uint32_t version = r.header().layout_version;
  j.rec[0].offset = 0;  // the immutable header prefix
  j.rec[0].length = 16;
  j.rec[1].offset = r.geo().region_bytes - 8;  // runs off the end
  j.rec[1].length = 64;
  j.rec[2].offset = offsetof(Header, journal);  // the journal itself
  j.rec[2].length = 8;
  j.rec[3].offset = ~uint64_t{0} - 4;  // offset + length wraps (region_fuzz)
  j.rec[3].length = 64;
  j.count.store(4);
  EXPECT_EQ(UndoJournal(r), 0);
  EXPECT_EQ(r.header().layout_version, version);
  EXPECT_EQ(j.count.load(), 0u);
}

}  // namespace
}  // namespace slate::internal
