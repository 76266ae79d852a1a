// Pool::Impl: the attachment state and the helpers every operation shares.
// Split by concern across pool_*.cc (open, entries, tasks, agents, inspect).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "slate/internal/cell_store.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/journal.h"
#include "slate/internal/layout.h"
#include "slate/internal/lock_profile.h"
#include "slate/internal/region.h"
#include "slate/internal/region_backing.h"
#include "slate/internal/shm_mapping.h"
#include "slate/internal/zero_buffer.h"
#include "slate/pool.h"

namespace slate::internal {


// Read-only snapshots retry (1 ms apart) while a lock holder is mid-change;
// after this many tries with change_seq odd and not moving, the holder is
// taken for dead and the snapshot shows its transaction rolled back. The
// region fuzzer lowers it so that every odd image is not 20 ms.
extern std::atomic<int> g_snapshot_settle_attempts;
// Tries a snapshot takes before it gives up on a pool that keeps changing
// (kTimedOut); with an earlier snapshot to show instead, fewer, but more
// than the settle attempts, so a dead holder is still seen as one.
inline constexpr int kSnapshotAttempts = 200;
inline constexpr int kStaleFallbackAttempts = 25;
const char* BuiltinSegmentName(uint32_t row);

// True when the pool must keep this entry: an unfinished task, a task result
// not yet aggregated, an unresolved error, an agent.
bool IsPinned(const Slot& s);
// A task's checkpoint: changed only by its claim's holder (SaveCheckpoint)
// and dropped with its task; Update, Erase and Release refuse it.
inline bool IsTaskCheckpoint(const Slot& s) {
  return s.segment == kSegCheckpoints && s.kind.result.task_id != 0;
}
Status RefuseTaskCheckpoint(const Slot& s, const char* verb);

// Everything a new slot needs besides its kind-specific fields.
struct SlotSpec {
  uint32_t segment = 0;
  std::vector<uint8_t> data;  // EncodeData() output
  // The data carries its author, which InsertSlot is to give a row in the
  // pool's author table (AuthorTable::InternLocked).
  bool intern_author = false;
  uint32_t payload_bytes = 0;
  uint32_t bloom = 0;
  uint32_t author_hash = 0;
  uint8_t ntags = 0;
  uint8_t flags = 0;
  float importance = 0.5f;
};
SlotSpec MakeSlotSpec(uint32_t segment, const std::string& author,
                      const std::string& requires_cap,
                      const std::vector<std::string>& tags, float importance,
                      const std::vector<uint8_t>& payload);
// The same into *spec, every field set, reusing spec->data's storage.
// `interning` given (the writes users make, which repeat their authors):
// the author is named by its row in that pool's author table when this
// thread knows it published there, else kept in the data and marked for
// InsertSlot to intern.
void FillSlotSpec(SlotSpec* spec, uint32_t segment, const std::string& author,
                  const std::string& requires_cap, const std::vector<std::string>& tags,
                  float importance, const std::vector<uint8_t>& payload,
                  const Pool::Impl* interning = nullptr);
// Per-thread SlotSpecs for a batch's encoding outside the lock, reused from
// batch to batch; a spec that grew past 16 KiB is given back when the next
// batch takes it. At(i) is valid until the thread's next Take.
class SpecScratch {
 public:
  static SpecScratch& Take(size_t n);
  SlotSpec& At(size_t i) { return specs_[i]; }

 private:
  std::vector<SlotSpec> specs_;
};

// Read helpers over any region: the live mapping under the lock, or a
// snapshot. All of them validate what they read.
std::optional<Entry> ReadEntryAt(const Region& r, uint32_t slot,
                                 bool with_payload);
// The same into *e, reusing its storage; also the task's required
// capability when requires_cap is given. False when the slot is not a
// sound live entry (*e is then unspecified).
bool ReadEntryInto(const Region& r, uint32_t slot, bool with_payload, Entry* e,
                   std::string* requires_cap);
// Name of the agent in a row ("" for row 0 or an invalid row).
std::string AgentName(const Region& r, uint32_t row);
bool ReadPrefixAt(const Region& r, uint32_t slot, DataPrefix* out);
TaskInfo TaskInfoAt(const Region& r, uint32_t slot);
// TaskInfoAt without the required capability (the caller reads it with
// the entry). `mono_ref`: any CLOCK_MONOTONIC time within 24 days of a
// running task's lease deadline, to read it by (task_time.h); 0: now.
void TaskFieldsAt(const Region& r, uint32_t slot, TaskInfo* info, int64_t mono_ref = 0);
Result<std::vector<Entry>> FindIn(const Region& r, const Query& q);
PoolStats StatsOf(const Region& r, const std::string& name);
std::vector<std::string> CheckRegion(const Region& r);
std::vector<AgentInfo> AgentsOf(const Region& r, int64_t stale_after_ns);
// Writes a fresh, empty pool into a zeroed region (all but the mutex and
// the magic, which Pool::Create sets around it).
void FormatRegion(const Region& r, const std::string& name);
// Recomputes every DERIVED structure from the authoritative fields.
// Returns a line per repair it had to make to authoritative data.
std::vector<std::string> Rebuild(const Region& r);

}  // namespace slate::internal

namespace slate {

class Pool::Impl {
 public:
  // Holds the pool mutex for one operation. Recovers the region first if
  // the previous holder died. Queued notifications fire after unlock.
  class Guard {
   public:
    // `use` labels the hold for the lock profile (lock_profile.h).
    explicit Guard(const Impl& impl, internal::LockUse use = internal::LockUse::kOther);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    const Status& status() const { return status_; }
    void Notify(internal::EventWord* e);

   private:
    const Impl& impl_;
    Status status_;
    bool locked_ = false;
    // An exception leaving the locked scope may have stopped a change
    // halfway: the destructor then repairs before it unlocks.
    int uncaught_on_entry_ = 0;
    internal::LockUse use_;
    int64_t asked_ns_ = 0;  // profiled holds only
    int64_t held_ns_ = 0;
    static constexpr int kMaxNotify = 16;
    internal::EventWord* notify_[kMaxNotify] = {};
    int nnotify_ = 0;
  };

  // A private copy of the region for read-only attachments.
  struct Snapshot {
    internal::ZeroBuffer bytes;
    internal::Region region;
    bool recovered = false;  // a dead holder's transaction was rolled back
  };

  Impl(std::string name, std::unique_ptr<internal::ShmMapping> map,
       const internal::Geometry& geo);

  // kTimedOut after `attempts` copies that each saw the pool change.
  Result<std::unique_ptr<Snapshot>> TakeSnapshot(int attempts = internal::kSnapshotAttempts) const;
  // TakeSnapshot, then rolled back and rebuilt in private.
  Result<std::unique_ptr<Snapshot>> RepairedSnapshot() const;
  // TakeSnapshot, or the cached one if young enough. A pool that changes
  // too fast for a consistent copy within a few tries shows its last one
  // instead (a busy group under a monitor or a dashboard); kTimedOut only
  // when there is none.
  Result<std::shared_ptr<Snapshot>> CurrentSnapshot() const;
  // Runs fn over a consistent view: the live region under the lock, or a
  // snapshot when read-only.
  template <typename Fn>
  auto WithView(Fn fn) const -> decltype(fn(std::declval<const internal::Region&>()));
  Status RequireWritable() const;
  // Whether a waiter should spin before it sleeps: only while every agent
  // of the group can have a CPU of its own. With more agents than CPUs (a
  // producer and two workers on two cores), a spinning waiter keeps the
  // very process it waits for off a CPU. Lock-free; a hint.
  bool SpinPays() const;

  // ---- shared mutation helpers (REQUIRE the Guard held) ----------------
  // Evicts until one slot and room for spec's data are free, then makes
  // sure the file has pages for them. Each eviction is its own committed
  // transaction. kPoolFull when nothing evictable is left, or when
  // /dev/shm has no room for the pages.
  Status Reserve(const internal::SlotSpec& spec);
  // Takes a free slot, writes its data and common fields (journaled),
  // assigns the next id. Does not link it. Stamped now_ns (wall clock),
  // or the clock's reading when 0. `run_row`: the queue row (0: the shared
  // queue) whose run of free slots to take it from, refilled with up to
  // kRunSlots when empty; kNil: the pool's free list. REQUIRES: Reserve
  // succeeded.
  uint32_t InsertSlot(internal::Txn& txn, const internal::SlotSpec& spec,
                      int64_t now_ns = 0, uint32_t run_row = internal::kNil);
  // Slots a run takes at once: 32 slots are 4 KiB, one page.
  static constexpr uint32_t kRunSlots = 32;
  // Gives every queue's run back to the free list (Reserve, when only runs
  // have free slots left).
  void ReturnRunsLocked();
  // Adds to / removes from id index and segment list, plus Attach/Detach.
  void LinkSlot(uint32_t slot);
  void UnlinkSlot(uint32_t slot);
  // Classification: eviction heap or pinned count, task queues and counts.
  // Detach before changing a slot's state fields, Attach after.
  void Attach(uint32_t slot);
  void Detach(uint32_t slot);
  // After commit: the slot and its data cells go back to the free lists.
  // `data` was read from the slot before the transaction freed it. Never
  // throws: damage met on the way is repaired in place, since the
  // transaction that freed them is committed and must not be retried.
  // ReleaseData is false when it had to repair (the rebuild has then
  // freed everything nothing live owns).
  void ReleaseSlot(uint32_t slot, const internal::DataRef& data);
  bool ReleaseData(const internal::DataRef& data);
  // Entry -> slot under the lock; kNotFound with a clear message.
  Result<uint32_t> LocateLocked(EntryId id, const char* what) const;
  // As LocateLocked, and the entry must be a task whose slot's seal holds
  // (RegionCorrupt if not: repairing quarantines it), since its fields
  // decide what the caller does, refusals included. `check_seal` false:
  // the caller checks it before any refusal and saves the slot (which
  // checks it) before any write.
  Result<uint32_t> LocateTaskLocked(TaskId id, bool check_seal = true) const;
  // Validates an agent reference against the table; row on success.
  Status CheckAgentLocked(AgentRef ref) const;
  bool AgentHasCap(uint32_t row, uint32_t requires_hash) const;
  // The lead this handle's operations are fenced by (Pool::FenceByLead);
  // term 0: none. Written before other threads use the handle.
  struct LeadFence {
    uint32_t row = 0;
    uint32_t generation = 0;
    uint64_t term = 0;
  } fence_;
  // From the Guard's constructor, the lock held: Ok while fence_.term is
  // the lead's term and fence_'s agent holds it; else records the refusal
  // ("conflicts", Leadership::refused) and returns kStaleTerm.
  Status CheckFenceLocked() const;
  // Records a refused completion (counter, and a "conflicts" entry when
  // there is room). Commits its own transaction.
  void RecordStaleLocked(uint32_t slot, uint32_t epoch, const char* op,
                         AgentRef by);
  void NotifyQueue(Guard& g, uint32_t row);
  // Wakes the agent in `row` (0: nobody) to a task of its taken from it:
  // its worker stops running the task at once.
  void NotifyTakenBack(Guard& g, uint32_t row);
  // Ends a non-final task in `end` (IsEnding), or holds it (kHeld), with an
  // "errors" record.
  Result<EntryId> DeadLetterLocked(Guard& g, uint32_t slot, const std::string& reason,
                                   TaskState end = TaskState::kDeadLettered);
  // A checkpoint slot a transaction freed; its cells go back after commit.
  struct DroppedCheckpoint {
    uint32_t slot = internal::kNil;
    internal::DataRef data;
  };
  // The live checkpoint of task id, or kNil.
  uint32_t FindCheckpointLocked(TaskId id) const;
  // Inside txn, which saved the task slot: frees the task's checkpoint, if
  // it has one, and clears its kCheckpointed. Every transaction that makes
  // a task final calls it, then ReleaseDropped after its commit.
  DroppedCheckpoint DropCheckpointLocked(internal::Txn& txn, uint32_t task);
  void ReleaseDropped(const DroppedCheckpoint& d);
  // Picks the task `row` should claim next, or kNil. Tasks past their
  // deadline are dead-lettered on the way.
  uint32_t PickLocked(Guard& g, uint32_t row);
  void RecoverLocked() const;
  // After an operation found the region damaged (RegionCorrupt): rolls back
  // its transaction, rebuilds every derived structure and quarantines the
  // slots that fail their checks, then logs what it did. REQUIRES: the
  // Guard held.
  void RepairLocked(const std::string& why) const noexcept;
  Status CorruptStatus(const std::string& why) const;
  // Runs step (one or more whole transactions) under the held Guard. When
  // it finds the region damaged, repairs and runs it again on the repaired
  // region, up to kRepairAttempts runs in all; the last failure is
  // returned as kCorrupt. A step that
  // already committed part of its work must not be retried whole: wrap
  // each transaction separately. Nothing throws past this.
  template <typename Fn>
  auto RepairingLocked(Fn step) const -> decltype(step());
  static constexpr int kRepairAttempts = 3;
  // The name `ref` registered with; "" if it is not registered. A
  // registration's name never changes, so the answer is cached per ref.
  // Takes the lock on a miss: REQUIRES the Guard not held.
  std::string AgentNameOf(AgentRef ref) const;

  // The latest read-only snapshot, reused while younger than max age.
  mutable std::mutex snapshot_mu_;
  mutable std::shared_ptr<Snapshot> cached_;
  mutable int64_t cached_at_ns_ = 0;
  int64_t snapshot_max_age_ns_ = 0;

  mutable std::mutex agent_name_mu_;
  mutable AgentRef agent_name_ref_;  // guarded by agent_name_mu_
  mutable std::string agent_name_;   // guarded by agent_name_mu_

  std::string name_;
  std::unique_ptr<internal::ShmMapping> map_;
  internal::Region region_;
  mutable internal::RegionBacking backing_;  // writable attachments only
  bool read_only_;
  // Unique among this process's attachments, never reused: keys the
  // per-thread memo of author rows (AuthorRowHint).
  const uint64_t serial_;
};

// Each repair quarantines what it found damaged, so a step that meets
// damage again met new damage (a writer outside the protocol is still at
// work): it is retried a bounded number of times.
template <typename Fn>
auto Pool::Impl::RepairingLocked(Fn step) const -> decltype(step()) {
  for (int attempt = 1;; ++attempt) {
    try {
      return step();
    } catch (const internal::RegionCorrupt& e) {
      RepairLocked(e.what());
      if (attempt == kRepairAttempts) return CorruptStatus(e.what());
    }
  }
}

template <typename Fn>
auto Pool::Impl::WithView(Fn fn) const
    -> decltype(fn(std::declval<const internal::Region&>())) {
  if (!read_only_) {
    Guard g(*this);
    if (!g.status().ok()) return g.status();
    return RepairingLocked([&] { return fn(region_); });
  }
  auto snap = CurrentSnapshot();
  if (!snap.ok()) return snap.status();
  try {
    return fn((*snap)->region);
  } catch (const internal::RegionCorrupt&) {
  }
  // A damaged image: read a fresh private copy, repaired as the next
  // writer would repair the region.
  auto fresh = RepairedSnapshot();
  if (!fresh.ok()) return fresh.status();
  try {
    return fn((*fresh)->region);
  } catch (const internal::RegionCorrupt& e) {
    return CorruptStatus(e.what());
  }
}

}  // namespace slate
