// What a group is doing, copied out of its pool into plain structs: the
// monitor renders it, --json prints it, tests read it. Built from the
// entries the group writes: requests, the coordinator's progress reports,
// the supervisor's breaker reports, recent errors and conflicts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/agent.h"
#include "slate/pool.h"
#include "slate/stats.h"

namespace slate {

struct RequestProgress {
  std::string id;
  std::string source;
  int priority = 0;  // the request's own (submit --priority)
  std::string team;  // a sub-request's team ("" at the top level)
  uint64_t parent = 0;  // and the task it runs for
  uint64_t total = 0, pending = 0, running = 0, done = 0, failed = 0, dead_lettered = 0;
  uint64_t waiting = 0, held = 0, skipped = 0, cancelled = 0;
  uint64_t checkpointed = 0;  // unfinished, with a checkpoint saved
  // Tasks that will not change again: done, dead-lettered, skipped, cancelled.
  uint64_t Finished() const { return done + dead_lettered + skipped + cancelled; }
  double throughput_per_s = 0;
  std::optional<double> eta_s;
};

struct WorkerRow {
  AgentInfo info;
  std::optional<TaskId> current_task;
  std::string breaker = "closed";  // closed, open, probation
};

struct RecentEvent {
  EntryId id = 0;
  int64_t at_ns = 0;
  std::string segment;  // errors or conflicts
  std::string kind;     // failure, lost, dead_letter, duplicate_assignment, ...
  std::string text;
};

struct GroupSnapshot {
  int64_t taken_ns = 0;  // wall clock
  PoolStats stats;
  std::vector<WorkerRow> agents;
  std::vector<RequestProgress> requests;  // the active ones
  std::vector<RecentEvent> recent;        // newest first
};

Result<GroupSnapshot> TakeGroupSnapshot(Pool& pool, size_t recent_events = 8);
nlohmann::ordered_json SnapshotToJson(const GroupSnapshot& snap);

}  // namespace slate
