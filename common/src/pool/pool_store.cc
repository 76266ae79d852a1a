// Mutation helpers shared by every operation: reserving room (eviction),
// inserting and releasing slots, and keeping derived structures in step.
// REQUIRES for all: the Guard held and the pool writable.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "slate/clock.h"
#include "slate/internal/author_table.h"
#include "slate/internal/cell_store.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/evict_heap.h"
#include "slate/internal/event_count.h"
#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/segment_list.h"
#include "slate/internal/slot_seal.h"
#include "slate/internal/task_queue.h"

namespace slate {
using namespace internal;

namespace internal {

const char* BuiltinSegmentName(uint32_t row) {
  static const char* const kNames[kBuiltinSegments] = {
      segments::kTasks,    segments::kResults,   segments::kErrors,
      segments::kProgress, segments::kConflicts, segments::kAgents,
      segments::kCheckpoints};
  return row < kBuiltinSegments ? kNames[row] : "";
}

// Pinned entries never enter the eviction heap.
bool IsPinned(const Slot& s) {
  switch (s.segment) {
    case kSegTasks:  // a kept task stays until released, final or not
      return !IsFinal(static_cast<TaskState>(s.kind.task.state)) ||
             ((s.flags & kKeep) != 0 && (s.flags & kSettled) == 0);
    case kSegResults:
    case kSegErrors: return (s.flags & kSettled) == 0;
    case kSegAgents: return true;
    default: return (s.flags & kKeep) != 0 && (s.flags & kSettled) == 0;
  }
}

void FillSlotSpec(SlotSpec* spec, uint32_t segment, const std::string& author,
                  const std::string& requires_cap, const std::vector<std::string>& tags,
                  float importance, const std::vector<uint8_t>& payload,
                  const Pool::Impl* interning) {
  // Batches repeat their author: hash it, and find its row, once per change.
  thread_local std::string last_author;
  thread_local uint32_t last_hash = 0;
  thread_local uint64_t last_pool = 0;  // Pool::Impl::serial_ last_row is of; 0: none
  thread_local int last_row = -1;
  if (author.empty()) {
    spec->author_hash = 0;
  } else {
    if (author != last_author) {
      last_author = author;
      last_hash = Hash32(author);
      last_pool = 0;
    }
    spec->author_hash = last_hash;
  }
  int author_row = -1;
  spec->intern_author = false;
  if (interning != nullptr && !author.empty()) {
    if (last_pool != interning->serial_ || last_row < 0) {
      const AuthorTable table(interning->region_);
      last_row = AuthorRowHint(interning->serial_, table, author, last_hash);
      last_pool = interning->serial_;
      spec->intern_author = last_row < 0 && table.Published() < kAuthorRows;
    }
    author_row = last_row;
  }
  spec->segment = segment;
  EncodeDataInto(&spec->data, author, requires_cap, tags, payload, author_row);
  spec->payload_bytes = static_cast<uint32_t>(payload.size());
  spec->bloom = TagBloom(tags);
  spec->ntags = static_cast<uint8_t>(tags.size());
  spec->flags = 0;
  spec->importance = importance;
}

SlotSpec MakeSlotSpec(uint32_t segment, const std::string& author,
                      const std::string& requires_cap,
                      const std::vector<std::string>& tags, float importance,
                      const std::vector<uint8_t>& payload) {
  SlotSpec spec;
  FillSlotSpec(&spec, segment, author, requires_cap, tags, importance, payload);
  return spec;
}

SpecScratch& SpecScratch::Take(size_t n) {
  thread_local SpecScratch scratch;
  constexpr size_t kKeepBytes = 16u << 10;
  // Kept: the last batch's specs, or 1,024 of them if that is more.
  scratch.specs_.resize(std::max(n, std::min<size_t>(scratch.specs_.size(), 1024)));
  for (size_t i = 0; i < n; ++i)
    if (scratch.specs_[i].data.capacity() > kKeepBytes)
      std::vector<uint8_t>().swap(scratch.specs_[i].data);
  return scratch;
}

}  // namespace internal

Status Pool::Impl::Reserve(const SlotSpec& spec) {
  const uint32_t cell_bytes = CellStore::CellBytesFor(spec.segment, spec.data.size());
  Header& h = region_.header();
  EvictHeap heap(region_);
  auto no_free_slot = [&] {
    return h.derived.slot_free_head == kNil && h.counters.slot_high >= region_.geo().slot_capacity;
  };
  const CellStore cells(region_);
  bool runs_returned = false;
  while (no_free_slot() || (cell_bytes > 0 && !cells.Fits(cell_bytes))) {
    if (no_free_slot() && !runs_returned) {
      // Free slots set aside in runs are free: use them before evicting.
      ReturnRunsLocked();
      runs_returned = true;
      continue;
    }
    const uint32_t victim = heap.Top();
    if (victim == kNil)
      return {StatusCode::kPoolFull,
              "pool '" + name_ + "' is full: " +
                  std::to_string(h.derived.entries) + " entries, " +
                  std::to_string(h.derived.pinned) +
                  " of them live, nothing left to evict"};
    Slot& s = region_.slot(victim);
    Txn txn(region_, OpCode::kEvict);
    txn.Save(s);  // checks the seal: the fields below are the protocol's
    const DataRef data = DataRef::Of(s);
    SegmentRecord& seg = region_.CheckedSegment(s.segment, "segment row").rec;
    txn.Save(seg);
    UnlinkSlot(victim);
    s.state = static_cast<uint8_t>(SlotState::kFree);
    h.counters.evictions += 1;
    seg.evictions += 1;
    txn.Commit();
    ReleaseSlot(victim, data);
  }
  // What InsertSlot and CellStore::Alloc may take from past the
  // high-water marks must have pages before either writes it.
  // A run fills from the free list, else with up to kRunSlots fresh slots.
  const uint32_t slot_end =
      h.derived.slot_free_head == kNil
          ? std::min(region_.geo().slot_capacity, h.counters.slot_high + kRunSlots)
          : 0;
  const uint32_t cell_end = cell_bytes > 0 ? cells.FreshEnd(cell_bytes) : 0;
  if (Status s = backing_.EnsureLocked(slot_end, cell_end); !s.ok())
    return {s.code(), "pool '" + name_ + "': " + s.message()};
  return Status::Ok();
}

namespace {

// Sets up to Pool::Impl::kRunSlots free slots aside in q's run, in
// ascending order where they come in it: from the free list when it has
// any (a rebuilt list is ascending), else fresh ones past the high-water
// mark, which rises past them (counters are saved by every transaction).
// REQUIRES: inside txn, the run empty, the fresh slots backed (Reserve).
// Crash point "<op>.fill_run": halfway, the list cut or half the fresh
// slots sealed, the mark not yet raised.
void FillRun(const Txn& txn, const Region& r, TaskQueue& q) {
  Header& h = r.header();
  if (h.derived.slot_free_head != kNil) {
    const uint32_t first = h.derived.slot_free_head;
    uint32_t last = first;
    r.CheckedSlot(last, "free slot list head");
    for (uint32_t n = 1; n < Pool::Impl::kRunSlots; ++n) {
      const uint32_t next = r.slot(last).hash_next;
      if (next == kNil) break;
      r.CheckedSlot(next, "free slot list link");
      last = next;
    }
    h.derived.slot_free_head = r.slot(last).hash_next;
    txn.Point("fill_run");
    r.slot(last).hash_next = kNil;
    q.run_head = first;
    return;
  }
  const uint32_t from = h.counters.slot_high;
  const uint32_t to = std::min(r.geo().slot_capacity, from + Pool::Impl::kRunSlots);
  if (from >= to) return;
  for (uint32_t i = from; i < to; ++i) {
    Slot& s = r.slot(i);
    if (s.state != static_cast<uint8_t>(SlotState::kFree))
      ThrowCorrupt("slot " + std::to_string(i) + " past the high-water mark is not free");
    s.hash_next = i + 1 < to ? i + 1 : kNil;
    // Below the mark every slot holds its seal, free or live; one never
    // used is zero (a rolled-back fill or insert left nothing covered).
    s.seal = SealOfZeroSlot(i);
    if (i == from + (to - from) / 2) txn.Point("fill_run");
  }
  h.counters.slot_high = to;
  q.run_head = from;
}

}  // namespace

void Pool::Impl::ReturnRunsLocked() {
  Header& h = region_.header();
  const uint32_t cap = region_.geo().slot_capacity;
  for (uint32_t row = 0; row <= region_.geo().agent_capacity; ++row) {
    TaskQueue& q = region_.queue(row);
    for (uint32_t steps = 0; q.run_head != kNil; ++steps) {
      if (steps >= cap) ThrowCorrupt("a slot run loops");
      Slot& s = region_.CheckedSlot(q.run_head, "slot run link");
      q.run_head = s.hash_next;
      s.hash_next = h.derived.slot_free_head;
      h.derived.slot_free_head = region_.SlotIndex(s);
    }
  }
}

uint32_t Pool::Impl::InsertSlot(Txn& txn, const SlotSpec& spec, int64_t now_ns,
                                uint32_t run_row) {
  Header& h = region_.header();
  // From the row's run when asked; else a freed slot first; else the first
  // untouched one (counters are saved).
  TaskQueue* run = nullptr;
  if (run_row != kNil) {
    run = &region_.CheckedQueue(run_row, "slot run owner");
    if (run->run_head == kNil) FillRun(txn, region_, *run);
    if (run->run_head == kNil) run = nullptr;  // no slot left to set aside
  }
  const bool fresh = run == nullptr && h.derived.slot_free_head == kNil;
  const uint32_t i = run != nullptr ? run->run_head
                     : fresh        ? h.counters.slot_high
                                    : h.derived.slot_free_head;
  Slot& s = region_.CheckedSlot(i, run != nullptr ? "slot run head"
                                   : fresh        ? "slot high-water mark"
                                                  : "free slot list head");
  txn.Save(s);
  if (s.state != static_cast<uint8_t>(SlotState::kFree))
    ThrowCorrupt("slot " + std::to_string(i) + " is handed out as free but is not");
  if (run != nullptr) run->run_head = s.hash_next;
  else if (fresh) h.counters.slot_high += 1;
  else h.derived.slot_free_head = s.hash_next;
  if (spec.intern_author) {
    // The data carries its author, uninterned: [len][ntags][req][tag lens][author]...
    const uint8_t* d = spec.data.data();
    AuthorTable(region_).InternLocked(
        txn, {reinterpret_cast<const char*>(d) + 3 + d[1], d[0]}, spec.author_hash);
  }
  std::memset(&s.kind, 0, sizeof s.kind);
  s.segment = static_cast<uint8_t>(spec.segment);
  s.flags = spec.flags;
  CellStore(region_).StoreIn(s, spec.data);
  txn.Point("after_data");
  const int64_t now = now_ns != 0 ? now_ns : NowRealNs();
  s.ntags = spec.ntags;
  s.author_hash = spec.author_hash;
  s.id = h.counters.next_id++;
  s.created_ns = s.updated_ns = now;
  s.importance = spec.importance;
  s.payload_bytes = spec.payload_bytes;
  s.tag_bloom = spec.bloom;
  s.seg_prev = s.seg_next = s.hash_next = s.heap_pos = kNil;
  s.state = static_cast<uint8_t>(SlotState::kLive);
  return i;
}

void Pool::Impl::LinkSlot(uint32_t slot) {
  IdIndex(region_).Insert(slot);
  SegmentList(region_).Append(slot);
  region_.header().derived.entries += 1;
  Attach(slot);
}

void Pool::Impl::UnlinkSlot(uint32_t slot) {
  Detach(slot);
  SegmentList(region_).Unlink(slot);
  IdIndex(region_).Erase(slot);
  region_.header().derived.entries -= 1;
}

namespace {

// A task's state, checked before it indexes the per-state counts.
uint8_t StateIndex(const TaskFields& t) {
  const uint8_t st = t.state;
  if (st >= kTaskStateCount) ThrowCorrupt("task state " + std::to_string(st) + " is out of range");
  return st;
}

}  // namespace

void Pool::Impl::Attach(uint32_t slot) {
  Derived& d = region_.header().derived;
  Slot& s = region_.slot(slot);
  if (s.segment == kSegTasks) {
    TaskFields& t = s.kind.task;
    d.tasks[StateIndex(t)] += 1;
    if (t.state == static_cast<uint8_t>(TaskState::kPending))
      TaskQueues(region_).PushPending(t.assignee, slot);
    if (t.state == static_cast<uint8_t>(TaskState::kRunning))
      TaskQueues(region_).PushRunning(t.assignee, slot);
  }
  if (IsPinned(s)) d.pinned += 1;
  else EvictHeap(region_).Push(slot);
}

void Pool::Impl::Detach(uint32_t slot) {
  Derived& d = region_.header().derived;
  Slot& s = region_.slot(slot);
  if (s.segment == kSegTasks) {
    TaskFields& t = s.kind.task;
    d.tasks[StateIndex(t)] -= 1;
    if (t.state == static_cast<uint8_t>(TaskState::kPending))
      TaskQueues(region_).RemovePending(t.assignee, slot);
    if (t.state == static_cast<uint8_t>(TaskState::kRunning))
      TaskQueues(region_).RemoveRunning(t.assignee, slot);
  }
  if (IsPinned(s)) d.pinned -= 1;
  else EvictHeap(region_).Remove(slot);
}

void Pool::Impl::ReleaseSlot(uint32_t slot, const DataRef& data) {
  if (!ReleaseData(data)) return;  // the rebuild freed the slot
  Header& h = region_.header();
  Slot& s = region_.slot(slot);
  s.hash_next = h.derived.slot_free_head;
  h.derived.slot_free_head = slot;
}

bool Pool::Impl::ReleaseData(const DataRef& data) {
  try {
    CellStore(region_).Free(data);
    return true;
  } catch (const RegionCorrupt& e) {
    // The transaction is committed; only the derived free list is hurt,
    // and a rebuild relinks every block and slot nothing live owns.
    RepairLocked(e.what());
    return false;
  }
}

Result<uint32_t> Pool::Impl::LocateLocked(EntryId id, const char* what) const {
  const uint32_t slot = IdIndex(region_).Find(id);
  if (slot == kNil)
    return Status{StatusCode::kNotFound,
                  std::string(what) + " " + std::to_string(id) +
                      " not found in pool '" + name_ + "'"};
  return slot;
}

Result<uint32_t> Pool::Impl::LocateTaskLocked(TaskId id, bool check_seal) const {
  auto slot = LocateLocked(id, "task");
  if (!slot.ok()) return slot;
  if (check_seal) RequireSeal(region_, *slot);
  if (region_.slot(*slot).segment != kSegTasks)
    return Status{StatusCode::kNotFound,
                  "entry " + std::to_string(id) + " is not a task"};
  return slot;
}

void Pool::Impl::NotifyTakenBack(Guard& g, uint32_t row) {
  if (row != 0) g.Notify(&region_.agent(row).taken_back);
}

void Pool::Impl::NotifyQueue(Guard& g, uint32_t row) {
  if (row != 0) {
    g.Notify(&region_.agent(row).wake);
    return;
  }
  // The shared queue wakes every agent asleep on its own word.
  g.Notify(&region_.header().shared_event);
  for (uint32_t r = 1; r <= region_.geo().agent_capacity; ++r) {
    AgentRow& a = region_.agent(r);
    if (a.rec.state == 1 &&
        (a.wake.word.load(std::memory_order_relaxed) & 0x80000000u))
      internal::Notify(a.wake);
  }
}

}  // namespace slate
