// The region's layout, version 7. docs/POOL.md describes it in prose.
//
// One region per pool, laid out by hand at creation (no segment manager: its
// internal mutex is not robust). Offsets are from the region base, so every
// process may map it anywhere. Every structure is fixed-size, standard-layout
// and written only under the pool's robust mutex, except the atomics marked
// "lock-free" below.
//
// Fields are either AUTHORITATIVE or DERIVED:
//  - authoritative fields are saved to the undo journal before a transaction
//    first changes them; a holder that dies mid-transaction is rolled back.
//  - derived fields (lists, indexes, counters, free lists) are recomputed from
//    the authoritative ones by Rebuild() after any crash, so a death halfway
//    through updating them leaves nothing to repair by hand.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "slate/agent.h"
#include "slate/internal/robust_mutex.h"
#include "slate/task.h"

namespace slate::internal {

inline constexpr uint64_t kMagic = 0x314C4F4F50544C53ull;  // "SLTPOOL1"
inline constexpr uint32_t kLayoutVersion = 11;
inline constexpr uint32_t kNil = 0xFFFFFFFFu;
inline constexpr uint32_t kSegmentCapacity = 32;
inline constexpr int kPriorityBuckets = 256;
// Entry data lives in an arena of 16-byte cells (cell_store.h).
inline constexpr uint32_t kCellBytes = 16;
// Free extents are listed by size class: one class per size below 64
// cells, then four per power of two (free_cells.h).
inline constexpr uint32_t kCellClasses = 164;
inline constexpr int kMaxCapabilityBytes = 32;
inline constexpr int kMaxTeamBytes = 28;  // kMaxTeamNameBytes and a NUL
inline constexpr int kJournalRecords = 8;
// Authors kept once per pool (Authors below); an entry names one by row
// in its data's first byte (author_table.h).
inline constexpr uint32_t kAuthorRows = 128;
inline constexpr int kJournalRecordBytes = 448;

// Segment rows every pool has, in this order, from creation on.
inline constexpr uint32_t kSegTasks = 0;
inline constexpr uint32_t kSegResults = 1;
inline constexpr uint32_t kSegErrors = 2;
inline constexpr uint32_t kSegProgress = 3;
inline constexpr uint32_t kSegConflicts = 4;
inline constexpr uint32_t kSegAgents = 5;
inline constexpr uint32_t kSegCheckpoints = 6;
inline constexpr uint32_t kBuiltinSegments = 7;

static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<int64_t>::is_always_lock_free);

// Where everything is. Computed from PoolOptions at creation, stored in the
// header, recomputed and compared on attach. Written once by the creator.
struct Geometry {
  uint64_t region_bytes;
  uint64_t off_segments;
  uint64_t off_agents;
  uint64_t off_slots;
  uint64_t off_hash;
  uint64_t off_heap;
  uint64_t off_cell_map;  // one bit per cell: set while live data holds it
  uint64_t off_cells;
  uint32_t slot_capacity;
  uint32_t cell_bytes;  // kCellBytes
  uint32_t cell_count;
  uint32_t max_payload;
  uint32_t agent_capacity;
  uint32_t hash_buckets;  // power of two
  uint32_t max_data_bytes;  // per entry: prefix plus payload
  uint32_t mode;
};
static_assert(sizeof(Geometry) == 96);

// A futex-backed event count (lock-free). Bits 0-30 count events; bit 31 says
// someone may be asleep on it. A waiter that dies leaves the bit set, which
// costs the next notifier one spurious wake and nothing else.
struct EventWord {
  std::atomic<uint32_t> word;
};

// kQuarantined: the slot failed its seal or its sanity checks; it is kept
// out of every structure and never reused, so a damaged entry is reported
// once and never followed.
enum class SlotState : uint8_t { kFree = 0, kLive = 1, kQuarantined = 2 };
enum SlotFlags : uint8_t {
  kSettled = 1,  // a result aggregated, an error resolved, a kept entry released
  kKeep = 2,     // written with NewEntry::keep: live until released
  kChained = 4,  // the data is a chain of extents, not one (cell_store.h)
  // A task's: one live entry in "checkpoints" names it (its kind.result's
  // task_id); dropped in the transaction that makes the task final.
  kCheckpointed = 8,
};

// A task's state machine, in the first 36 bytes of its slot's kind area; the
// other 20 hold the start of its data. Times are milliseconds (task_time.h):
// the deadline 40-bit signed from the slot's created_ns, the lease
// CLOCK_MONOTONIC modulo 2^32, compared with wrap-around.
struct TaskFields {
  uint8_t state;        // TaskState (authoritative)
  int8_t priority;
  uint8_t max_retries;  // <= kMaxRetriesLimit
  int8_t deadline_hi;   // the deadline's high byte, over deadline_lo
  uint16_t assignee;    // agent row, 0: shared queue
  uint16_t last_agent;  // row that ran the latest attempt, 0: none
  uint32_t epoch;       // claims so far: each claim bumps it (TaskInfo::attempts)
  uint32_t requires_hash;  // 0: requires nothing
  uint32_t timeout_ms;
  uint32_t q_prev;      // DERIVED: bucket list (pending) or running list
  uint32_t q_next;      // DERIVED
  uint32_t deadline_lo;
  union {
    uint32_t lease_ms;    // running only: when the claim's lease runs out
    uint32_t result_gap;  // done only: result id - task id; 0: too far apart
  };
};
static_assert(sizeof(TaskFields) == 36);

struct ResultFields {
  uint64_t task_id;  // the task it completed, 0: a free-standing result
  uint32_t epoch;    // the claim that produced it
  uint32_t run;      // that claim's run, claim to result (EncodeRun); 0: unknown
};

// A run time in 32 bits: microseconds below 2^31 (35 minutes), else
// milliseconds with the top bit set (24 days, then saturated). 0 is
// "unknown" (a person's result, a checkpoint, a pool that did not keep
// it), so a run is at least 1 us.
inline constexpr uint32_t kRunInMs = 1u << 31;
inline constexpr uint32_t EncodeRun(int64_t ns) {
  const int64_t us = ns / 1000 < 1 ? 1 : ns / 1000;
  if (us < int64_t{kRunInMs}) return static_cast<uint32_t>(us);
  const int64_t ms = us / 1000;
  return kRunInMs | static_cast<uint32_t>(ms < int64_t{kRunInMs} ? ms : kRunInMs - 1);
}
inline constexpr int64_t DecodeRun(uint32_t run) {
  return (run & kRunInMs) ? int64_t{run & ~kRunInMs} * 1'000'000 : int64_t{run} * 1000;
}

// One entry. The slot is the authoritative record of its entry. Its data,
// data_bytes bytes of
// [author_len u8][ntags u8][requires_len u8][tag_len u8 x ntags]
// [author][requires][tags...][payload],
// starts inline, in the part of `kind` its kind does not use (InlineBytes),
// and goes on in the cells from first_cell that the live slot owns: one
// extent, or a chain of them when flags has kChained (cell_store.h).
// Written by the lock holder only.
//
// INVARIANT: outside a transaction, `seal` is SealOf(slot, index) over every
// byte but the DERIVED links (and the seal itself); Txn::Commit reseals each
// slot it saved. A slot whose seal fails was written by someone who does not
// follow the protocol: it is quarantined, never followed (slot_seal.h).
struct alignas(64) Slot {
  uint8_t state;    // SlotState
  uint8_t segment;  // row in the segment table
  uint8_t ntags;
  uint8_t flags;    // SlotFlags
  uint32_t author_hash;
  uint64_t id;
  int64_t created_ns;
  int64_t updated_ns;
  float importance;
  uint32_t first_cell;   // kNil when data_bytes == 0
  uint32_t data_bytes;
  uint32_t payload_bytes;
  uint32_t tag_bloom;    // two bits per tag, to skip most non-matches
  uint32_t seal;         // see above
  uint32_t seg_prev;     // DERIVED: segment list, ascending id
  uint32_t seg_next;     // DERIVED
  uint32_t hash_next;    // DERIVED: id index chain, or slot free list
  uint32_t heap_pos;     // DERIVED: position in the eviction heap, kNil if not
  union {
    TaskFields task;
    ResultFields result;
    uint8_t raw[56];
  } kind;
};
static_assert(sizeof(Slot) == 128);
static_assert(std::is_standard_layout_v<Slot>);

// Where a slot's inline data starts in `kind`, and how much fits: what its
// kind's fields leave, 20 bytes for a task, 40 for a result and all 56 for
// any other entry. Inline data is sealed with the slot. A checkpoint uses
// ResultFields too: the task it saves and the claim that saved it.
inline constexpr uint32_t InlineOffset(uint32_t segment) {
  return segment == kSegTasks                                    ? sizeof(TaskFields)
         : segment == kSegResults || segment == kSegCheckpoints ? sizeof(ResultFields)
                                                                : 0;
}
inline constexpr uint32_t InlineBytes(uint32_t segment) {
  return sizeof(Slot::kind) - InlineOffset(segment);
}

// A priority queue of pending tasks plus the list of running ones. DERIVED.
struct TaskQueue {
  uint64_t nonempty[kPriorityBuckets / 64];  // bit b: bucket b has tasks
  uint32_t running_head;
  uint32_t pending;
  uint32_t running;
  // Free slots set aside for this queue's agent, linked through hash_next
  // (kNil: none): its tasks and its results take neighbouring slots, so a
  // worker's claims and completions touch few cache lines and pages
  // whoever else posts and completes in between (Pool::Impl::InsertSlot).
  uint32_t run_head;
  struct Bucket {
    uint32_t head;
    uint32_t tail;
  } buckets[kPriorityBuckets];  // bucket = priority + 128; ascending id
};

// Authoritative part of a segment row; a row is used once named, forever.
struct SegmentRecord {
  uint32_t used;
  uint32_t reserved;
  uint64_t evictions;
  char name[kMaxSegmentBytes];
};
struct SegmentRow {
  SegmentRecord rec;
  uint32_t head;   // DERIVED
  uint32_t tail;   // DERIVED
  uint64_t count;  // DERIVED
  uint64_t bytes;  // DERIVED
};

// What an agent's completions and failures change: journaled alone, so a
// completion saves 24 bytes of its agent's row, not the whole record.
struct AgentTallies {
  uint64_t done;
  uint64_t failed;
  uint32_t consecutive_failures;
  uint32_t reserved;
};

// Authoritative part of an agent row.
struct AgentRecord {
  uint32_t state;  // 0 free, 1 registered
  uint32_t generation;
  int32_t pid;
  uint32_t ncaps;
  uint64_t start_time;
  uint64_t entry_id;
  int64_t registered_ns;
  AgentTallies tallies;
  uint32_t role;  // AgentRole
  // The team it works in (supervision trees): "" for the top level, else
  // the capability its team's supervisor advertises. NUL-padded.
  char team[kMaxTeamBytes];
  char name[kMaxAgentNameBytes];
  char caps[kMaxCapabilities][kMaxCapabilityBytes];
  uint32_t cap_hash[kMaxCapabilities];
};
static_assert(sizeof(AgentRecord) <= kJournalRecordBytes);

struct alignas(64) AgentRow {
  AgentRecord rec;
  // Lock-free: written by the agent itself, read by anyone.
  alignas(64) std::atomic<int64_t> heartbeat_mono;
  EventWord wake;  // lock-free: bumped when its queue gains a task
  EventWord taken_back;  // lock-free: bumped when a task it runs is taken from it
  alignas(64) TaskQueue queue;
};

// Authoritative counters, journaled as one range.
//
// slot_high and cell_high are high-water marks: slots [slot_high, cap) and
// cells [cell_high, count) have never been handed out. They are free, on
// no list, and never touched, so a large pool costs memory only for what it
// has used: neither creation nor Rebuild() writes them.
struct Counters {
  uint64_t next_id;
  uint64_t evictions;
  uint64_t stale_completions;
  uint64_t commits;
  uint32_t slot_high;
  uint32_t cell_high;
  uint32_t authors_used;  // rows [0, authors_used) of the author table hold names
  uint32_t reserved;
};

// Who leads the pool's supervisors (authoritative; changed only in a
// transaction). A term is held by one agent at a time: a new one begins
// when nobody holds it, or its holder left, died or let its lease run out.
struct Leadership {
  uint64_t term;               // 0: never held
  uint32_t holder_row;         // 0: nobody
  uint32_t holder_generation;  // of that row when it took the term
  int64_t expiry_mono_ns;      // CLOCK_MONOTONIC, the same in every process
  uint64_t refused;            // operations refused under a term that was over
};

struct Derived {
  uint32_t slot_free_head;   // free slots below slot_high
  uint32_t reserved;
  uint64_t cells_free;    // in listed free extents, plus those at and above cell_high
  uint64_t free_extents;  // listed
  uint64_t entries;
  uint64_t pinned;  // live entries: never evictable now
  uint32_t heap_size;
  // Written under the lock; read lock-free by waiters deciding whether to
  // spin (Pool::Impl::SpinPays).
  std::atomic<uint32_t> agents_registered;
  uint64_t quarantined;  // slots in SlotState::kQuarantined
  uint64_t tasks[kTaskStateCount];
  // Free extents below cell_high, by size class, doubly linked through
  // their first cells; bit c of class_bits: class c has one (free_cells.h).
  uint64_t class_bits[(kCellClasses + 63) / 64];
  uint32_t class_heads[kCellClasses];
};

struct JournalRecord {
  uint64_t offset;  // from the region base
  uint32_t length;
  uint32_t reserved;
  uint8_t bytes[kJournalRecordBytes];
};

// The undo journal. The lock holder saves a range here before first changing
// it, then publishes the record by bumping count (release). count returns to 0
// at commit. A locker that finds count > 0 after EOWNERDEAD restores records
// count-1..0 and so undoes the dead holder's transaction.
struct Journal {
  std::atomic<uint32_t> count;
  uint32_t op;  // OpCode of the transaction in flight, for the log
  JournalRecord rec[kJournalRecords];
};

// An author's name, kept once (authoritative: saved before it is written).
// A row is written once, in the transaction that first uses it, and never
// changed after its commit, so an entry that names it can be read without
// the lock for as long as the pool lives.
struct AuthorRow {
  uint32_t hash;  // Hash32(name): checked against each naming slot's author_hash
  uint8_t len;    // <= kMaxAuthorBytes
  char name[kMaxAuthorBytes];
  uint8_t reserved[3];
};
static_assert(sizeof(AuthorRow) == 72);

struct Authors {
  // DERIVED, lock-free: rows [0, published) are committed. Stored after the
  // commit that added them (Txn::Commit); Rebuild() sets it from
  // counters.authors_used, in case that holder died in between.
  alignas(64) std::atomic<uint32_t> published;
  AuthorRow rows[kAuthorRows];
};

struct alignas(64) Header {
  std::atomic<uint64_t> magic;  // stored last at creation (release)
  uint32_t layout_version;
  uint32_t header_bytes;
  Geometry geo;
  uint32_t creator_uid;
  int32_t creator_pid;
  int64_t created_ns;
  uint64_t recoveries;  // written by the recovering locker only

  alignas(64) pthread_mutex_t mutex;  // robust, process-shared
  // Lock-free: odd while a lock holder may be changing the region. A read-only
  // snapshot is consistent when it reads the same even value before and after.
  alignas(64) std::atomic<uint64_t> change_seq;
  // Lock-free, only grow (region_backing.h): slots [0, slots_backed), with
  // their heap rows, and cells [0, cells_backed), with their map words,
  // have pages in the file.
  alignas(64) std::atomic<uint32_t> slots_backed;
  std::atomic<uint32_t> cells_backed;
  LockSpinners lock_spinners;  // lock-free (robust_mutex.h)
  alignas(64) EventWord entries_event;  // any committed change to entries
  alignas(64) EventWord shared_event;   // the shared queue gained a task
  alignas(64) Counters counters;
  alignas(64) Leadership leadership;
  alignas(64) Derived derived;
  alignas(64) TaskQueue shared_queue;  // DERIVED
  alignas(64) Journal journal;
  alignas(64) Authors authors;
};

inline constexpr uint64_t AlignUp(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace slate::internal
