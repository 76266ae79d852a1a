// Transactions over the region: undo journal plus commit.
//
// A Txn is opened by the lock holder; it saves the header counters itself.
// Before first changing any other authoritative range it calls Save(range); Commit() then empties the journal in one store.
// A holder killed before that store is rolled back by the next locker
// (UndoJournal); one killed after it has committed. Derived structures may be
// changed at any point: Rebuild() recomputes them after any death.
// A Txn destroyed without Commit() undoes itself (an in-process error path).
#pragma once

#include <cstddef>
#include <cstdint>

#include "slate/internal/crash_point.h"
#include "slate/internal/layout.h"
#include "slate/internal/region.h"

namespace slate::internal {

enum class OpCode : uint32_t {
  kNone = 0, kCreate, kWrite, kUpdate, kErase, kEvict, kSegment, kPost,
  kClaim, kRenew, kComplete, kFail, kRequeue, kDeadLetter, kSettle,
  kRegister, kDeregister, kStale, kHold, kResume, kAccept, kPreempt,
  kCheckpoint, kLead,
};
const char* OpName(OpCode op);

class Txn {
 public:
  Txn(const Region& r, OpCode op);
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // REQUIRES: n <= kJournalRecordBytes and fewer than kJournalRecords saves.
  // Saving a slot first checks its seal (RegionCorrupt if it fails);
  // Commit() reseals every saved slot.
  void Save(const void* p, size_t n);
  template <typename T>
  void Save(const T& object) {
    Save(&object, sizeof(T));
  }
  void Commit();
  // The transaction added author rows (AuthorTable::InternLocked): Commit
  // publishes them to lock-free readers after its commit point.
  void PublishAuthorsAtCommit() { publish_authors_ = true; }
  // Test-only crash point inside this transaction: "<op>.<step>".
  void Point(const char* step) const {
    if (CrashPointsArmed()) MaybeCrash(OpName(op_), step);
  }

 private:
  const Region& r_;  // outlives this helper
  OpCode op_;
  bool committed_ = false;
  bool publish_authors_ = false;
  // The slots this transaction saved, each once, in the order first saved:
  // the ones Commit() checks and reseals. Process-local, so neither Save
  // nor Commit walks the journal's records in shared memory to find them.
  uint32_t slots_[kJournalRecords];
  uint32_t nslots_ = 0;
};

// Restores every published journal record, newest first, and empties the
// journal. Returns the number of records undone. Validates each record's
// range, so a corrupt journal is skipped, not followed.
int UndoJournal(const Region& r);

}  // namespace slate::internal
