#include "slate/internal/journal.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "slate/internal/crash_point.h"
#include "slate/internal/slot_seal.h"

namespace slate::internal {

const char* OpName(OpCode op) {
  switch (op) {
    case OpCode::kNone: return "none";
    case OpCode::kCreate: return "create";
    case OpCode::kWrite: return "write";
    case OpCode::kUpdate: return "update";
    case OpCode::kErase: return "erase";
    case OpCode::kEvict: return "evict";
    case OpCode::kSegment: return "segment";
    case OpCode::kPost: return "post";
    case OpCode::kClaim: return "claim";
    case OpCode::kRenew: return "renew";
    case OpCode::kComplete: return "complete";
    case OpCode::kFail: return "fail";
    case OpCode::kRequeue: return "requeue";
    case OpCode::kDeadLetter: return "dead_letter";
    case OpCode::kSettle: return "settle";
    case OpCode::kRegister: return "register";
    case OpCode::kDeregister: return "deregister";
    case OpCode::kStale: return "stale";
    case OpCode::kHold: return "hold";
    case OpCode::kResume: return "resume";
    case OpCode::kAccept: return "accept";
    case OpCode::kPreempt: return "preempt";
    case OpCode::kCheckpoint: return "checkpoint";
    case OpCode::kLead: return "lead";
  }
  return "unknown";
}

Txn::Txn(const Region& r, OpCode op) : r_(r), op_(op) {
  Journal& j = r_.header().journal;
  j.op = static_cast<uint32_t>(op);
  Point("begin");
  // Every transaction bumps counters.commits, and most move another counter:
  // saving them here means no operation can forget to.
  Save(r_.header().counters);
}

Txn::~Txn() {
  if (!committed_) UndoJournal(r_);
}

void Txn::Save(const void* p, size_t n) {
  Journal& j = r_.header().journal;
  const uint32_t i = j.count.load(std::memory_order_relaxed);
  JournalRecord& rec = j.rec[i];
  rec.offset = r_.OffsetOf(p);
  rec.length = static_cast<uint32_t>(n);
  std::memcpy(rec.bytes, p, n);
  // A slot is checked on the copy just taken (one read): a first save must
  // find it sealed, or this transaction would build on someone's scribble.
  // A free slot is exempt: the one taking it overwrites every field, and
  // checks that it is free.
  const uint32_t slot = SlotIndexOfRange(r_, p, n);
  if (slot != kNil && std::find(slots_, slots_ + nslots_, slot) == slots_ + nslots_) {
    if (rec.bytes[offsetof(Slot, state)] != static_cast<uint8_t>(SlotState::kFree) &&
        !RecordedSealHolds(rec.bytes, slot))
      ThrowCorrupt("slot " + std::to_string(slot) + " fails its seal");
    slots_[nslots_++] = slot;
  }
  // Publish only a complete record: a death before this store leaves the
  // range unchanged (it is changed only after Save returns).
  j.count.store(i + 1, std::memory_order_release);
}

void Txn::Commit() {
  // Reseal every slot this transaction saved, after checking that what it
  // leaves live is usable: a scribble that landed between Save and here
  // is refused, not sealed in.
  for (uint32_t k = 0; k < nslots_; ++k) {
    const uint32_t slot = slots_[k];
    Slot& s = r_.slot(slot);
    if (s.state == static_cast<uint8_t>(SlotState::kLive)) {
      const char* problem = LiveSlotProblem(r_, s);
      if (problem != nullptr)
        ThrowCorrupt("slot " + std::to_string(slot) + " changed under the lock: " + std::string(problem));
    }
    Reseal(s, slot);
  }
  Point("before_commit");
  r_.header().counters.commits += 1;  // saved by the constructor
  Journal& j = r_.header().journal;
  j.count.store(0, std::memory_order_release);  // the commit point
  j.op = static_cast<uint32_t>(OpCode::kNone);
  committed_ = true;
  if (publish_authors_) {
    Header& h = r_.header();
    h.authors.published.store(std::min(h.counters.authors_used, kAuthorRows),
                              std::memory_order_release);
  }
  Point("after_commit");
}


int UndoJournal(const Region& r) {
  Journal& j = r.header().journal;
  const uint32_t n = j.count.load(std::memory_order_acquire);
  int undone = 0;
  for (uint32_t i = n > kJournalRecords ? kJournalRecords : n; i-- > 0;) {
    const JournalRecord& rec = j.rec[i];
    // Only ranges a transaction may save: never the immutable header fields,
    // the mutex or the journal itself, never past the region.
    // Checked without forming offset + length, which a damaged record can
    // make wrap.
    const uint64_t journal_at = offsetof(Header, journal);
    const uint64_t offset = rec.offset, length = rec.length;
    if (length > kJournalRecordBytes || offset > r.geo().region_bytes ||
        length > r.geo().region_bytes - offset)
      continue;
    const uint64_t end = offset + length;
    const bool in_header_prefix = offset < offsetof(Header, counters);
    const bool in_journal = end > journal_at && offset < journal_at + sizeof(Journal);
    if (in_header_prefix || in_journal) continue;
    std::memcpy(r.base() + offset, rec.bytes, length);
    ++undone;
  }
  j.count.store(0, std::memory_order_release);
  j.op = static_cast<uint32_t>(OpCode::kNone);
  return undone;
}

}  // namespace slate::internal
