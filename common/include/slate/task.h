// Tasks: entries of segment "tasks" with a state machine on top.
//
//   pending(assignee) --claim--> running(epoch, lease) --complete--> done
//        ^   ^                        |         |
//        |   +------reassign----------+         +--fail--> failed --retry--> pending
//        |                                                   |
//        +-- any non-final state --dead_letter--> dead_lettered (final)
//
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
};
inline constexpr int kTaskStateCount = 6;  // index 0 unused
const char* TaskStateName(TaskState state);
inline bool IsFinal(TaskState s) {
  return s == TaskState::kDone || s == TaskState::kDeadLettered;
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
