// Tasks: entries of segment "tasks" with a state machine on top.
//
//   waiting --make_ready--> pending(assignee) --claim--> running(epoch, lease)
//                              ^   ^                        |         |
//                              |   +------reassign----------+     complete --> done
//                              |                                      |
//                              +--------retry------- failed <--fail---+
//
//   any non-final state --end--> dead_lettered | skipped | cancelled (final)
//
// waiting: posted before its dependencies are done; in no queue, claimable
// by nobody until made ready. held: reserved for a person's review (not
// produced by the pool itself).
// Every claim bumps the task's epoch. complete/fail/renew carry the epoch of
// their claim and are refused (kStaleEpoch, and recorded) unless it is still
// the current one and the task is running. A task records at most one result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slate/entry.h"

namespace slate {

using TaskId = EntryId;

enum class TaskState : uint8_t {
  kPending = 1,
  kRunning = 2,
  kDone = 3,
  kFailed = 4,
  kDeadLettered = 5,
  kWaiting = 6,    // its dependencies are not all done
  kHeld = 7,       // held for a person's review
  kSkipped = 8,    // final: a dependency will never be done
  kCancelled = 9,  // final: an operator cancelled it
};
inline constexpr int kTaskStateCount = 10;  // index 0 unused
const char* TaskStateName(TaskState state);
inline bool IsFinal(TaskState s) {
  return s == TaskState::kDone || s == TaskState::kDeadLettered ||
         s == TaskState::kSkipped || s == TaskState::kCancelled;
}
// The final states a task can be ended in without a result.
inline bool IsEnding(TaskState s) {
  return s == TaskState::kDeadLettered || s == TaskState::kSkipped ||
         s == TaskState::kCancelled;
}

inline constexpr int kMinPriority = -128;
inline constexpr int kMaxPriority = 127;
inline constexpr int kMaxRequiresBytes = 32;
inline constexpr uint32_t kMaxRetriesLimit = 255;

// Which queue a task waits in: one agent's, or the shared queue that any
// agent with the required capability may claim from.
struct AgentRef {
  uint32_t row = 0;         // 1-based row in the agent table; 0: shared queue
  uint32_t generation = 0;  // the registration; a reused row has a new one
  bool is_shared() const { return row == 0; }
  friend bool operator==(const AgentRef&, const AgentRef&) = default;
};
inline constexpr AgentRef kSharedQueue{};

struct TaskSpec {
  NewEntry entry;            // segment is forced to "tasks"; entry.keep holds
                             // the task, even when final, until Release(id)
  int priority = 0;          // [-128, 127], higher is claimed first
  std::string requires_cap;  // capability the claimer must have; empty: none
  uint32_t max_retries = 3;  // further attempts after the first, <= 255
  uint32_t timeout_ms = 0;   // execution time limit, 0: none
  int64_t deadline_ns = 0;   // wall clock; not started after it; 0: none
  AgentRef assignee = kSharedQueue;
  // Posted waiting, in no queue, until MakeReady. REQUIRES: assignee is
  // the shared queue (MakeReady names the queue).
  bool waiting = false;
};

// Task ids lo <= id < hi.
struct TaskIdRange {
  TaskId lo = 0;
  TaskId hi = UINT64_MAX;
};

struct TaskInfo {
  TaskId id = 0;
  TaskState state = TaskState::kPending;
  int priority = 0;
  std::string requires_cap;
  uint32_t attempts = 0;      // claims so far
  uint32_t max_retries = 0;
  uint32_t timeout_ms = 0;
  int64_t deadline_ns = 0;
  uint32_t epoch = 0;         // of the latest claim
  int64_t lease_deadline_mono_ns = 0;  // running only
  AgentRef assignee;          // pending/running: who holds it
  AgentRef last_agent;        // who ran the latest attempt
  EntryId result_id = 0;      // done only
  bool checkpointed = false;  // an attempt saved a checkpoint (Pool::LastCheckpoint)
  int64_t created_ns = 0;     // when it was posted (wall clock)
};

// What a claimer gets: enough to run the task and to report back.
struct Claim {
  TaskInfo task;
  Entry entry;  // the task entry itself: payload, tags, author
};

// The outcome a claimer reports on complete.
struct TaskResult {
  std::vector<std::string> tags;
  float importance = 0.5f;
  std::vector<uint8_t> payload;  // msgpack
};

// One claim's outcome, for CompleteBatch.
struct Completion {
  TaskId id = 0;
  uint32_t epoch = 0;
  TaskResult result;
};

}  // namespace slate
