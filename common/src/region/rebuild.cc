// Rebuild(): every DERIVED structure recomputed from the authoritative
// fields. Runs at creation, after a lock holder died, and after an operation
// found the region damaged. Treats the slots as untrusted: each is read once
// into a local copy; one whose seal fails or that cannot be valid is
// quarantined (kept, never followed, never reused) and reported, since that
// means someone scribbled on the region, not that a holder crashed.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "slate/internal/author_table.h"
#include "slate/internal/cell_store.h"
#include "slate/internal/evict_heap.h"
#include "slate/internal/free_cells.h"
#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/segment_list.h"
#include "slate/internal/slot_seal.h"
#include "slate/internal/task_queue.h"

namespace slate::internal {
namespace {

void ResetQueue(TaskQueue& q) {
  std::memset(&q, 0, sizeof q);
  q.running_head = kNil;
  q.run_head = kNil;  // every free slot goes back to the free list
  for (auto& b : q.buckets) b.head = b.tail = kNil;
}

void ResetDerived(const Region& r) {
  Header& h = r.header();
  // Zeroed around its one atomic, which waiters read without the lock.
  Derived& d = h.derived;
  constexpr size_t kAt = offsetof(Derived, agents_registered);
  constexpr size_t kAfter = kAt + sizeof d.agents_registered;
  std::memset(static_cast<void*>(&d), 0, kAt);
  std::memset(reinterpret_cast<char*>(&d) + kAfter, 0, sizeof d - kAfter);
  d.agents_registered.store(0, std::memory_order_relaxed);
  h.derived.slot_free_head = kNil;
  std::memset(h.derived.class_heads, 0xFF, sizeof h.derived.class_heads);
  ResetQueue(h.shared_queue);
  for (uint32_t i = 0; i < kSegmentCapacity; ++i) {
    SegmentRow& s = r.segment(i);
    s.head = s.tail = kNil;
    s.count = s.bytes = 0;
  }
  for (uint32_t row = 1; row <= r.geo().agent_capacity; ++row) {
    ResetQueue(r.agent(row).queue);
    if (r.agent(row).rec.state == 1) h.derived.agents_registered += 1;
  }
  std::memset(r.hash(), 0xFF, 4ull * r.geo().hash_buckets);
}

// Marks the cells of one entry's data in the cell map; false, marking
// nothing, if they leave the cells handed out so far (below the high-water
// mark) or cross another entry's or their own.
bool MarkData(const Region& r, const Slot& s) {
  FreeCells map(r);
  std::vector<std::pair<uint32_t, uint32_t>> marked;
  bool crossed = false;
  const bool inside = CellStore(r).ForExtents(
      DataRef::Of(s), r.header().counters.cell_high, [&](uint32_t at, uint32_t n) {
        crossed = crossed || map.AnyMarked(at, n);
        if (crossed) return;
        map.Mark(at, n);
        marked.emplace_back(at, n);
      });
  if (inside && !crossed) return true;
  for (const auto& [at, n] : marked) map.Unmark(at, n);
  return false;
}

// REQUIRES: MarkData(r, s) returned true.
void UnmarkData(const Region& r, const Slot& s) {
  FreeCells map(r);
  CellStore(r).ForExtents(DataRef::Of(s), r.header().counters.cell_high,
                          [&](uint32_t at, uint32_t n) { map.Unmark(at, n); });
}

void Quarantine(const Region& r, uint32_t i, const Slot& seen, const std::string& why,
                std::vector<std::string>* repairs) {
  Slot& s = r.slot(i);
  s.state = static_cast<uint8_t>(SlotState::kQuarantined);
  Reseal(s, i);
  r.header().derived.quarantined += 1;
  repairs->push_back("quarantined slot " + std::to_string(i) + " (entry " +
                     std::to_string(seen.id) + "): " + why);
}

}  // namespace

std::vector<std::string> Rebuild(const Region& r) {
  std::vector<std::string> repairs;
  Header& h = r.header();
  ResetDerived(r);
  // Slots and blocks past the high-water marks were never handed out: they
  // are neither read nor written here.
  Counters& c = h.counters;
  if (c.slot_high > r.geo().slot_capacity) {
    repairs.push_back("slot high-water mark was past the slot table; lowered");
    c.slot_high = r.geo().slot_capacity;
  }
  if (c.cell_high > r.geo().cell_count) {
    repairs.push_back("cell high-water mark was past the arena; lowered");
    c.cell_high = r.geo().cell_count;
  }
  if (c.authors_used > kAuthorRows) {
    repairs.push_back("author count was past the author table; lowered");
    c.authors_used = kAuthorRows;
  }
  // A holder that died between its commit and publishing its new author
  // rows left them committed and unpublished.
  AuthorTable(r).Republish();
  const uint32_t cap = c.slot_high;
  // Map bits at and past cell_high are never read: the allocator sets a
  // fresh cell's bit when it takes it.
  std::memset(r.cell_map(), 0, (uint64_t{c.cell_high} + 63) / 64 * 8);
  std::vector<std::pair<uint64_t, uint32_t>> live;
  std::vector<uint8_t> free_slot(cap, 0);  // decided once, from each slot's copy
  for (uint32_t i = 0; i < cap; ++i) {
    Slot& s = r.slot(i);
    Slot seen;
    std::memcpy(&seen, &s, sizeof seen);  // one read: every check below uses it
    s.heap_pos = s.hash_next = s.seg_prev = s.seg_next = kNil;
    const bool sealed = SealHolds(seen, i);
    if (sealed && seen.state == static_cast<uint8_t>(SlotState::kFree)) {
      free_slot[i] = 1;
      continue;
    }
    if (sealed && seen.state == static_cast<uint8_t>(SlotState::kQuarantined)) {
      h.derived.quarantined += 1;
      continue;
    }
    std::string problem;
    if (!sealed) problem = "fails its seal";
    else if (seen.state != static_cast<uint8_t>(SlotState::kLive))
      problem = "unknown state " + std::to_string(seen.state);
    else if (const char* why = LiveSlotProblem(r, seen)) problem = why;
    if (problem.empty() && !MarkData(r, seen))
      problem = "data leaves the arena or overlaps another entry's";
    if (!problem.empty()) {
      Quarantine(r, i, seen, problem, &repairs);
      continue;
    }
    live.emplace_back(seen.id, i);
  }
  std::sort(live.begin(), live.end());
  for (size_t k = 1; k < live.size(); ++k) {
    if (live[k].first == live[k - 1].first) {
      Slot seen;
      std::memcpy(&seen, &r.slot(live[k].second), sizeof seen);
      UnmarkData(r, seen);
      Quarantine(r, live[k].second, seen, "duplicate of entry " + std::to_string(live[k].first),
                 &repairs);
    }
  }
  // Free slots: a stack, lowest index on top.
  for (uint32_t i = cap; i-- > 0;) {
    if (!free_slot[i]) continue;
    r.slot(i).hash_next = h.derived.slot_free_head;
    h.derived.slot_free_head = i;
  }
  // Free cells below the mark: every unmarked run, listed.
  h.derived.cells_free = r.geo().cell_count - c.cell_high;
  FreeCells(r).RelistFromMap();
  // Live entries in id order: lists stay sorted by appending.
  IdIndex index(r);
  SegmentList segs(r);
  EvictHeap heap(r);
  TaskQueues queues(r);
  uint64_t max_id = 0;
  for (const auto& [id, i] : live) {
    Slot& s = r.slot(i);
    if (s.state != static_cast<uint8_t>(SlotState::kLive)) continue;  // a duplicate
    max_id = std::max(max_id, id);
    index.Insert(i);
    segs.Append(i);
    h.derived.entries += 1;
    if (s.segment == kSegTasks) {
      TaskFields& t = s.kind.task;
      if (t.assignee != 0 && (!r.ValidAgentRow(t.assignee) ||
                              r.agent(t.assignee).rec.state != 1)) {
        repairs.push_back("task " + std::to_string(id) +
                          " was assigned to a free agent row; moved to the "
                          "shared queue");
        t.assignee = 0;
        Reseal(s, i);
      }
      const uint8_t state = t.state;  // checked in the first pass; a change since is damage
      if (state >= kTaskStateCount) ThrowCorrupt("task state changed during rebuild");
      h.derived.tasks[state] += 1;
      const auto st = static_cast<TaskState>(state);
      if (st == TaskState::kPending) queues.PushPending(t.assignee, i);
      if (st == TaskState::kRunning) queues.PushRunning(t.assignee, i);
    }
    if (IsPinned(s)) h.derived.pinned += 1;
    else heap.Push(i);
  }
  if (h.counters.next_id <= max_id) {
    repairs.push_back("next id was behind the newest entry; advanced");
    h.counters.next_id = max_id + 1;
  }
  return repairs;
}

}  // namespace slate::internal
