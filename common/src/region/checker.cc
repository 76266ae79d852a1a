// CheckRegion(): every invariant of the layout, checked over a region that
// may be corrupt. Every index is range-checked before use and every walk is
// bounded, so a damaged pool yields violations, never a crash or a hang.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "slate/internal/author_table.h"
#include "slate/internal/cell_audit.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/evict_heap.h"
#include "slate/internal/id_index.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/segment_list.h"
#include "slate/internal/slot_seal.h"
#include "slate/internal/task_queue.h"
#include "slate/internal/task_time.h"

namespace slate::internal {
namespace {

constexpr uint8_t kLive = static_cast<uint8_t>(SlotState::kLive);

class Checker {
 public:
  explicit Checker(const Region& r)
      : r_(r),
        cells_(r, [this](std::string what) { Bad(std::move(what)); }),
        owner_(r.geo().slot_capacity, 0) {}

  // Reports, never repairs and never throws: a damaged index is one more
  // line of the report.
  std::vector<std::string> Run() {
    try {
      RunAll();
    } catch (const RegionCorrupt& e) {
      Bad(std::string("check stopped: ") + e.what());
    }
    return std::move(v_);
  }

 private:
  void RunAll() {
    CheckJournal();
    CheckSlots();
    CheckResults();
    CheckCheckpoints();
    CheckFreeSlots();
    cells_.CheckFree();
    CheckIdIndex();
    CheckSegments();
    CheckHeap();
    for (uint32_t row = 0; row <= r_.geo().agent_capacity; ++row) CheckQueue(row);
    CheckCounts();
    CheckAgents();
    CheckAuthors();
  }

  // IdIndex::Find, with a damaged chain reported rather than thrown.
  uint32_t Lookup(uint64_t id) {
    try {
      return IdIndex(r_).Find(id);
    } catch (const RegionCorrupt& e) {
      Bad(std::string("id index: ") + e.what());
      return kNil;
    }
  }

  std::string S(uint32_t i) const {
    return "slot " + std::to_string(i) + " (entry " +
           std::to_string(r_.slot(i).id) + ")";
  }
  void Bad(std::string what) {
    if (v_.size() < 1000) v_.push_back(std::move(what));
  }
  bool IsLive(uint32_t i) const {
    return r_.ValidSlot(i) && r_.slot(i).state == kLive && owner_[i];
  }

  void CheckJournal() {
    const uint32_t n = r_.header().journal.count.load(std::memory_order_acquire);
    if (n != 0)
      Bad("journal holds " + std::to_string(n) +
          " record(s): a transaction did not finish");
  }

  // Slots and cells at and past the high-water marks were never handed
  // out: they must be free and on no list, and are not read here.
  uint32_t SlotHigh() const {
    return std::min(r_.header().counters.slot_high, r_.geo().slot_capacity);
  }

  void CheckMarks() {
    const Counters& c = r_.header().counters;
    if (c.slot_high > r_.geo().slot_capacity)
      Bad("slot high-water mark " + std::to_string(c.slot_high) + " is past the slot table");
    if (c.cell_high > r_.geo().cell_count)
      Bad("cell high-water mark " + std::to_string(c.cell_high) + " is past the arena");
    // Pages are backed before the allocator hands out anything past a mark.
    const Header& h = r_.header();
    if (c.slot_high > h.slots_backed.load(std::memory_order_relaxed))
      Bad("slot high-water mark " + std::to_string(c.slot_high) + " is past the backed mark " +
          std::to_string(h.slots_backed.load(std::memory_order_relaxed)));
    if (c.cell_high > h.cells_backed.load(std::memory_order_relaxed))
      Bad("cell high-water mark " + std::to_string(c.cell_high) + " is past the backed mark " +
          std::to_string(h.cells_backed.load(std::memory_order_relaxed)));
  }

  void CheckSlots() {
    CheckMarks();
    const uint64_t next_id = r_.header().counters.next_id;
    for (uint32_t i = 0; i < SlotHigh(); ++i) {
      const Slot& s = r_.slot(i);
      if (!SealHolds(s, i)) {
        Bad(S(i) + " fails its seal: written outside the protocol");
        continue;
      }
      if (s.state == static_cast<uint8_t>(SlotState::kQuarantined)) {
        ++quarantined_;
        Bad("slot " + std::to_string(i) + " is quarantined: the entry it held was damaged");
        continue;
      }
      if (s.state != kLive) {
        if (s.state != static_cast<uint8_t>(SlotState::kFree))
          Bad("slot " + std::to_string(i) + " has invalid state " +
              std::to_string(s.state));
        continue;
      }
      if (!CheckLiveSlot(i, next_id)) continue;
      owner_[i] = 1;
      ++live_;
      ids_.emplace_back(s.id, i);
      if (IsPinned(s)) ++pinned_; else ++evictable_;
      if (s.segment == kSegTasks) CheckTask(i);
      if (s.segment == kSegResults && s.kind.result.task_id != 0)
        results_by_task_[s.kind.result.task_id].push_back(i);
      if (s.segment == kSegCheckpoints && s.kind.result.task_id != 0)
        checkpoints_by_task_[s.kind.result.task_id].push_back(i);
      if (s.segment == kSegTasks && (s.flags & kCheckpointed) != 0) checkpointed_.push_back(i);
    }
    std::sort(ids_.begin(), ids_.end());
    for (size_t k = 1; k < ids_.size(); ++k)
      if (ids_[k].first == ids_[k - 1].first)
        Bad("entry id " + std::to_string(ids_[k].first) + " appears twice");
  }

  bool CheckLiveSlot(uint32_t i, uint64_t next_id) {
    const Slot& s = r_.slot(i);
    if (s.segment >= kSegmentCapacity || !r_.segment(s.segment).rec.used) {
      Bad(S(i) + " names unknown segment " + std::to_string(s.segment));
      return false;
    }
    if (s.id == 0 || s.id >= next_id)
      Bad(S(i) + " has id outside [1, next id " + std::to_string(next_id) + ")");
    if (!std::isfinite(s.importance) || s.importance < 0 || s.importance > 1)
      Bad(S(i) + " has importance outside [0, 1]");
    if (s.data_bytes > r_.geo().max_data_bytes || s.payload_bytes > s.data_bytes) {
      Bad(S(i) + " has impossible data lengths");
      return false;
    }
    if (!cells_.MarkData(DataRef::Of(s), S(i))) return false;
    DataPrefix p;
    std::vector<uint8_t> raw;
    if (!CellStore(r_).Read(DataRef::Of(s), MaxPrefixBytes(), &raw) ||
        !DecodePrefix(raw, &p)) {
      Bad(S(i) + " has an undecodable data prefix");
      return false;
    }
    if (p.tags.size() != s.ntags || TagBloom(p.tags) != s.tag_bloom)
      Bad(S(i) + " tag count or tag filter disagrees with its tags");
    if (p.prefix_bytes + s.payload_bytes != s.data_bytes)
      Bad(S(i) + " payload length disagrees with its data");
    if (p.author_row >= 0 && !AuthorTable(r_).Resolve(s.author_hash, &p))
      Bad(S(i) + " names author row " + std::to_string(p.author_row) +
          ", which does not hold its author");
    else if ((p.author.empty() ? 0u : Hash32(p.author)) != s.author_hash)
      Bad(S(i) + " author hash disagrees with its author");
    return true;
  }

  // Rows are written once and read without the lock: each must hold the
  // name its hash says, and every committed row must be published.
  void CheckAuthors() {
    const Header& h = r_.header();
    if (h.counters.authors_used > kAuthorRows)
      Bad("author table count " + std::to_string(h.counters.authors_used) + " is past its " +
          std::to_string(kAuthorRows) + " rows");
    const uint32_t used = AuthorTable(r_).Used();
    if (h.authors.published.load(std::memory_order_acquire) != used)
      Bad("author table publishes " + std::to_string(h.authors.published.load()) +
          " rows of " + std::to_string(used));
    for (uint32_t k = 0; k < used; ++k) {
      const AuthorRow& a = h.authors.rows[k];
      if (a.len == 0 || a.len > kMaxAuthorBytes ||
          a.hash != Hash32(std::string_view(a.name, a.len)))
        Bad("author row " + std::to_string(k) + " does not hold the name its hash says");
    }
  }

  void CheckTask(uint32_t i) {
    const TaskFields& t = r_.slot(i).kind.task;
    if (t.state < 1 || t.state >= kTaskStateCount) {
      Bad(S(i) + " has invalid task state " + std::to_string(t.state));
      return;
    }
    ++tasks_[t.state];
    const auto st = static_cast<TaskState>(t.state);
    const bool queued = st == TaskState::kPending || st == TaskState::kRunning;
    if (queued && t.assignee != 0 &&
        (!r_.ValidAgentRow(t.assignee) || r_.agent(t.assignee).rec.state != 1))
      Bad(S(i) + " is " + TaskStateName(st) + " for unregistered agent row " +
          std::to_string(t.assignee));
    if (!queued && t.assignee != 0)
      Bad(S(i) + " is " + TaskStateName(st) + " yet names an assignee");
    if (st == TaskState::kRunning && t.epoch == 0)
      Bad(S(i) + " is running without a claim");
    // A zero gap means the result came more than 2^32 ids later.
    const uint64_t id = r_.slot(i).id;
    if (st == TaskState::kDone && t.result_gap == 0 &&
        r_.header().counters.next_id - id <= uint64_t{UINT32_MAX} + 1)
      Bad(S(i) + " is done without a result");
    if (st != TaskState::kDone && st != TaskState::kRunning && t.result_gap != 0)
      Bad(S(i) + " has a lease or a result but is " + TaskStateName(st));
  }

  // A checkpoint belongs to an unfinished task that knows it has one, and
  // stays pinned until that task ends, which drops it.
  void CheckCheckpoints() {
    for (const auto& [task_id, slots] : checkpoints_by_task_) {
      if (slots.size() > 1)
        Bad("task " + std::to_string(task_id) + " has " + std::to_string(slots.size()) +
            " checkpoints");
      const uint32_t t = Lookup(task_id);
      const bool owned = t != kNil && r_.slot(t).segment == kSegTasks &&
                         !IsFinal(static_cast<TaskState>(r_.slot(t).kind.task.state)) &&
                         (r_.slot(t).flags & kCheckpointed) != 0;
      for (uint32_t cp : slots) {
        if (!owned)
          Bad(S(cp) + " is a checkpoint of entry " + std::to_string(task_id) +
              ", which is no unfinished task that has one");
        if (!IsPinned(r_.slot(cp))) Bad(S(cp) + " is a checkpoint that may be evicted");
      }
    }
    for (uint32_t i : checkpointed_)
      if (!checkpoints_by_task_.count(r_.slot(i).id))
        Bad(S(i) + " is marked checkpointed, but no checkpoint names it");
  }

  void CheckResults() {
    for (const auto& [task_id, slots] : results_by_task_) {
      if (slots.size() > 1)
        Bad("task " + std::to_string(task_id) + " has " +
            std::to_string(slots.size()) + " results");
      const uint32_t t = Lookup(task_id);
      if (t == kNil) continue;  // the task was evicted after it finished
      const Slot& task = r_.slot(t);
      for (uint32_t res : slots) {
        if (task.segment != kSegTasks) {
          Bad(S(res) + " is the result of entry " + std::to_string(task_id) +
              ", which is not a task");
        } else if (task.kind.task.state != static_cast<uint8_t>(TaskState::kDone) ||
                   task.kind.task.result_gap != ResultGap(task_id, r_.slot(res).id) ||
                   task.kind.task.epoch != r_.slot(res).kind.result.epoch) {
          Bad(S(res) + " is not the recorded result of task " +
              std::to_string(task_id) + " at its epoch");
        }
      }
    }
    for (const auto& [id, i] : ids_) {
      const Slot& s = r_.slot(i);
      if (s.segment != kSegTasks || s.kind.task.state != static_cast<uint8_t>(TaskState::kDone) ||
          s.kind.task.result_gap == 0)
        continue;
      const uint64_t result_id = id + s.kind.task.result_gap;
      const uint32_t res = Lookup(result_id);
      if (res != kNil && (r_.slot(res).segment != kSegResults ||
                          r_.slot(res).kind.result.task_id != id))
        Bad(S(i) + " names result " + std::to_string(result_id) +
            ", which belongs elsewhere");
    }
  }

  // Free slots are on the free list or in one queue's run, each once.
  void CheckFreeSlots() {
    std::vector<uint8_t> seen(r_.geo().slot_capacity, 0);
    uint64_t n = 0;
    auto walk = [&](uint32_t head, const std::string& what) {
      for (uint32_t i = head; i != kNil; i = r_.slot(i).hash_next) {
        if (i >= SlotHigh() || seen[i]) {
          Bad(what + " is broken at " + std::to_string(i));
          return false;
        }
        seen[i] = 1;
        if (r_.slot(i).state == kLive) Bad("live slot " + std::to_string(i) + " is on " + what);
        ++n;
      }
      return true;
    };
    if (!walk(r_.header().derived.slot_free_head, "the slot free list")) return;
    for (uint32_t row = 0; row <= r_.geo().agent_capacity; ++row)
      if (!walk(r_.queue(row).run_head, "the slot run of queue " + std::to_string(row))) return;
    const uint64_t live_states = std::count_if(
        owner_.begin(), owner_.end(), [](uint8_t o) { return o != 0; });
    if (n + live_states + quarantined_ != SlotHigh())
      Bad("free slots (" + std::to_string(n) + ") plus live slots (" +
          std::to_string(live_states) + ") plus quarantined (" + std::to_string(quarantined_) +
          ") do not make the slots handed out (" + std::to_string(SlotHigh()) + ")");
  }

  void CheckIdIndex() {
    uint64_t chained = 0;
    const uint32_t buckets = r_.geo().hash_buckets;
    for (uint32_t bkt = 0; bkt < buckets; ++bkt) {
      uint32_t i = r_.hash()[bkt];
      for (uint64_t steps = 0; i != kNil; ++steps, i = r_.slot(i).hash_next) {
        if (!IsLive(i) || steps > live_ || IdIndex(r_).Bucket(r_.slot(i).id) != bkt) {
          Bad("id index bucket " + std::to_string(bkt) + " is broken");
          break;
        }
        ++chained;
      }
    }
    if (chained != live_)
      Bad("id index holds " + std::to_string(chained) + " entries, pool holds " +
          std::to_string(live_));
  }

  void CheckSegments() {
    uint64_t total = 0;
    for (uint32_t seg = 0; seg < kSegmentCapacity; ++seg) {
      const SegmentRow& row = r_.segment(seg);
      if (!row.rec.used) continue;
      uint64_t count = 0, bytes = 0, prev_id = 0;
      uint32_t prev = kNil;
      for (uint32_t i = row.head; i != kNil; prev = i, i = r_.slot(i).seg_next) {
        if (!IsLive(i) || r_.slot(i).segment != seg || r_.slot(i).seg_prev != prev ||
            r_.slot(i).id <= prev_id || count > live_) {
          Bad("segment '" + std::string(SegmentList(r_).Name(seg)) +
              "' list is broken near slot " + std::to_string(i));
          break;
        }
        prev_id = r_.slot(i).id;
        ++count;
        bytes += r_.slot(i).data_bytes;
      }
      if (count != row.count || bytes != row.bytes || row.tail != prev)
        Bad("segment '" + std::string(SegmentList(r_).Name(seg)) +
            "' counts disagree with its list");
      total += count;
    }
    if (total != live_)
      Bad("segments hold " + std::to_string(total) + " entries, pool holds " +
          std::to_string(live_));
  }

  void CheckHeap() {
    const uint32_t n = r_.header().derived.heap_size;
    if (n != evictable_) {
      Bad("eviction heap holds " + std::to_string(n) + ", evictable entries " +
          std::to_string(evictable_));
      return;
    }
    EvictHeap heap(r_);
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t i = r_.heap()[k];
      if (!IsLive(i) || r_.slot(i).heap_pos != k || IsPinned(r_.slot(i))) {
        Bad("eviction heap position " + std::to_string(k) + " is wrong");
        return;
      }
      if (k > 0 && heap.Before(i, r_.heap()[(k - 1) / 2]))
        Bad("eviction heap order is violated at " + std::to_string(k));
    }
  }

  void CheckQueue(uint32_t row) {
    const TaskQueue& q = r_.queue(row);
    const bool registered = row == 0 || r_.agent(row).rec.state == 1;
    uint64_t pending = 0, running = 0;
    for (int b = 0; b < kPriorityBuckets; ++b) {
      const bool bit = (q.nonempty[b / 64] >> (b % 64)) & 1;
      if (bit != (q.buckets[b].head != kNil))
        Bad(QName(row) + " bucket bitmap disagrees at bucket " + std::to_string(b));
      uint32_t prev = kNil;
      uint64_t prev_id = 0;
      for (uint32_t i = q.buckets[b].head; i != kNil; prev = i, i = r_.slot(i).kind.task.q_next) {
        if (!IsLive(i) || r_.slot(i).segment != kSegTasks ||
            r_.slot(i).kind.task.state != static_cast<uint8_t>(TaskState::kPending) ||
            r_.slot(i).kind.task.assignee != row ||
            TaskQueues::BucketOf(r_.slot(i).kind.task.priority) != static_cast<uint32_t>(b) ||
            r_.slot(i).kind.task.q_prev != prev || r_.slot(i).id <= prev_id ||
            pending > live_) {
          Bad(QName(row) + " bucket " + std::to_string(b) + " is broken");
          break;
        }
        prev_id = r_.slot(i).id;
        ++pending;
      }
      if (q.buckets[b].tail != prev) Bad(QName(row) + " bucket tail is wrong");
    }
    for (uint32_t i = q.running_head; i != kNil; i = r_.slot(i).kind.task.q_next) {
      if (!IsLive(i) || r_.slot(i).segment != kSegTasks ||
          r_.slot(i).kind.task.state != static_cast<uint8_t>(TaskState::kRunning) ||
          r_.slot(i).kind.task.assignee != row || running > live_) {
        Bad(QName(row) + " running list is broken");
        break;
      }
      ++running;
    }
    if (pending != q.pending || running != q.running)
      Bad(QName(row) + " counts disagree with its lists");
    if (!registered && (pending || running))
      Bad(QName(row) + " is unregistered but holds tasks");
    queued_pending_ += pending;
    queued_running_ += running;
  }

  std::string QName(uint32_t row) const {
    return row == 0 ? "shared queue" : "agent row " + std::to_string(row) + " queue";
  }

  void CheckCounts() {
    const Derived& d = r_.header().derived;
    if (d.entries != live_)
      Bad("entry count " + std::to_string(d.entries) + " != " + std::to_string(live_));
    if (d.quarantined != quarantined_)
      Bad("quarantined count " + std::to_string(d.quarantined) + " != " +
          std::to_string(quarantined_));
    if (d.pinned != pinned_)
      Bad("live-entry count " + std::to_string(d.pinned) + " != " + std::to_string(pinned_));
    for (int s = 1; s < kTaskStateCount; ++s)
      if (d.tasks[s] != tasks_[s])
        Bad(std::string("count of ") + TaskStateName(static_cast<TaskState>(s)) +
            " tasks " + std::to_string(d.tasks[s]) + " != " + std::to_string(tasks_[s]));
    if (queued_pending_ != tasks_[1] || queued_running_ != tasks_[2])
      Bad("not every pending or running task is in exactly one queue");
  }

  void CheckAgents() {
    uint32_t registered = 0;
    std::map<std::string, uint32_t> names;
    for (uint32_t row = 1; row <= r_.geo().agent_capacity; ++row) {
      const AgentRecord& a = r_.agent(row).rec;
      if (a.state == 0) continue;
      if (a.state != 1) {
        Bad("agent row " + std::to_string(row) + " has invalid state");
        continue;
      }
      ++registered;
      const std::string name = AgentName(r_, row);
      if (!IsValidName(name, kMaxAgentNameBytes) || a.ncaps > kMaxCapabilities || a.pid <= 0)
        Bad("agent row " + std::to_string(row) + " has invalid fields");
      if (!names.emplace(name, row).second)
        Bad("agent '" + name + "' is registered twice");
      const uint32_t e = Lookup(a.entry_id);
      if (e == kNil || r_.slot(e).segment != kSegAgents)
        Bad("agent '" + name + "' has no entry in segment 'agents'");
    }
    if (registered != r_.header().derived.agents_registered)
      Bad("registered agent count disagrees with the table");
    // The lead is held by a registered agent of its generation, or by
    // nobody (a leaving holder gives it up in the same transaction).
    const Leadership& lead = r_.header().leadership;
    if (lead.holder_row != 0 &&
        (!r_.ValidAgentRow(lead.holder_row) || r_.agent(lead.holder_row).rec.state != 1 ||
         r_.agent(lead.holder_row).rec.generation != lead.holder_generation))
      Bad("the lead (term " + std::to_string(lead.term) + ") is held by agent row " +
          std::to_string(lead.holder_row) + ", which is not registered as its holder");
    if (lead.holder_row != 0 && lead.term == 0) Bad("the lead is held in term 0");
  }

  const Region& r_;
  std::vector<std::string> v_;
  CellAudit cells_;
  std::vector<uint8_t> owner_;  // per slot: 1 if live and sound
  std::vector<std::pair<uint64_t, uint32_t>> ids_;
  std::map<uint64_t, std::vector<uint32_t>> results_by_task_;
  std::map<uint64_t, std::vector<uint32_t>> checkpoints_by_task_;
  std::vector<uint32_t> checkpointed_;  // task slots with kCheckpointed
  uint64_t live_ = 0, pinned_ = 0, evictable_ = 0, quarantined_ = 0;
  uint64_t tasks_[kTaskStateCount] = {};
  uint64_t queued_pending_ = 0, queued_running_ = 0;
};

}  // namespace

std::vector<std::string> CheckRegion(const Region& r) { return Checker(r).Run(); }

}  // namespace slate::internal
