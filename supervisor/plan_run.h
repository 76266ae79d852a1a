// The supervisor's side of a plan: which lines wait on which, made ready the
// moment their last dependency is done, skipped the moment one ends without
// a result.
//
// Everything here is DERIVED from the pool and rebuilt by Start(): the
// tasks' states, the accepted result of each done line, and the edges of
// the lines still waiting (their stubs' "after", slate/plan_task.h). A
// supervisor killed anywhere is replaced by one whose Start() finds the same
// plan; every step it takes is a pool transaction that is safe to repeat.
//
// Cost: Start() is O(lines + edges of waiting lines); after that, each
// result or ending costs O(its line's dependents), never a scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "request_store.h"
#include "slate/entry_cursor.h"
#include "slate/pool.h"

namespace slate::supervisor {

class PlanRun {
 public:
  // Ready tasks go to `backlog` (the supervisor's queue).
  PlanRun(Pool& pool, const RequestRecord& req, AgentRef backlog);

  // Reads the plan from the pool, then catches up: makes ready what can
  // run and skips what never can.
  Status Start();
  // Applies the results and endings recorded since the last call.
  Status Advance();

 private:
  enum class Line : uint8_t { kOpen, kWaiting, kDone, kEnded };

  uint32_t IndexOf(TaskId task) const;  // kNone when not of this request
  Status Done(uint32_t line, EntryId result);
  // `how` the line ended: "dead-lettered", "cancelled", ...
  Status Ended(uint32_t line, const std::string& how);
  Status MakeReady(uint32_t line);
  // REQUIRES: dependents_ built for the waiting lines.
  void LinkDependents(const std::vector<std::vector<uint32_t>>& after);

  static constexpr uint32_t kNone = UINT32_MAX;

  Pool& pool_;
  const RequestRecord& req_;
  AgentRef backlog_;
  std::vector<TaskId> task_;       // by line; 0: not in the pool (lost)
  std::vector<EntryId> result_;    // by line; the accepted result once done
  std::vector<Line> line_;
  std::vector<uint32_t> pending_deps_;  // waiting lines: dependencies not done
  std::vector<std::string> key_;   // lines that others depend on: their id
  // Dependents of each line (CSR over the waiting lines' edges).
  std::vector<uint32_t> dependents_start_, dependents_;
  std::vector<std::pair<TaskId, uint32_t>> by_task_;  // sorted: task -> line
  std::optional<EntryCursor> results_;  // from Start() on
  std::optional<EntryCursor> endings_;
};

}  // namespace slate::supervisor
