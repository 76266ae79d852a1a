// The supervisor's side of a plan: which lines wait on which, made ready the
// moment their last dependency is accepted, skipped the moment one ends
// without a result; and, when the request is validated, each result sent
// to a validation task, the line run again with the feedback until it
// passes or its iterations run out (then on_exhausted, exhaustion.h).
//
// A line's tasks (slate/plan_task.h): one per iteration, the latest is the
// line's state; one validation task per validated iteration. A line's
// result is accepted when it needs no validation, passed it, or came from
// a person (review accept).
//
// Everything here is DERIVED from the pool and rebuilt by Start(): the
// tasks' states, the accepted result of each done line, the edges of the
// lines still waiting (their stubs' "after"), and where each line's
// validation stands. A supervisor killed anywhere is replaced by one whose
// Start() finds the same plan; every step it takes is a pool transaction
// that is safe to repeat, or a post that Start() sees was made.
//
// Cost: Start() is O(tasks + edges of waiting lines); after that, each
// result or ending costs O(its line's dependents), never a scan.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plan/exhaustion.h"
#include "request/request_store.h"
#include "slate/entry_cursor.h"
#include "slate/plan_task.h"
#include "slate/pool.h"

namespace slate::supervisor {

class PlanRun {
 public:
  // Where a task made ready goes: a worker's queue chosen by the caller
  // (one hop less on a chain's critical path), or the backlog.
  using Placer = std::function<AgentRef(TaskId)>;
  // Ready tasks go where `place` says, else to `backlog` (the supervisor's
  // queue).
  PlanRun(Pool& pool, const RequestRecord& req, AgentRef backlog, Exhaustion& exhaustion,
          Placer place = nullptr);

  // Reads the plan from the pool, then catches up: makes ready what can
  // run, validates what was not, and skips what never can.
  Status Start();
  // Applies the results and endings recorded since the last call.
  Status Advance();
  // Tasks this run has posted so far (iterations and validations): a
  // request whose tasks all looked final is not finished if Advance posted.
  uint64_t posted() const { return posted_; }
  // The ids of the tasks posted since the last call.
  std::vector<TaskId> TakePosted() { return std::exchange(posted_ids_, {}); }

 private:
  enum class Line : uint8_t { kOpen, kWaiting, kValidating, kDone, kEnded };
  enum class Kind : uint8_t { kMain, kValidation };
  struct TaskRef {
    TaskId id;
    uint32_t line;
    uint16_t iteration;
    Kind kind;
    friend bool operator<(const TaskRef& a, const TaskRef& b) { return a.id < b.id; }
  };

  const TaskRef* Find(TaskId task) const;  // null when not of this request
  bool NeedsValidation(uint32_t line) const { return checked_[line]; }
  Status OnResult(const TaskRef& t, const Entry& result);
  Status Done(uint32_t line, EntryId result);
  // `how` the line ended: "dead-lettered", "cancelled", ...
  Status Ended(uint32_t line, const std::string& how);
  Status MakeReady(uint32_t line);
  // The validation of the line's current iteration: posted, or read back.
  Status Validate(uint32_t line, TaskId main, EntryId result);
  Status OnVerdict(uint32_t line, TaskId validation, const Entry& verdict);
  Status OnValidationEnded(uint32_t line, TaskId validation, const std::string& how);
  // The line's next iteration with one more feedback round, or, past
  // max_iterations (or given exhausted_why), its last task, posted waiting:
  // exhaustion.h decides its fate, or it is cancelled.
  Status Iterate(uint32_t line, const std::string& feedback, EntryId rejected,
                 const std::string& exhausted_why = "", bool cancelled = false);
  // Posts a task of `line` modelled on its current one.
  Result<TaskId> PostFor(uint32_t line, Kind kind, const PlanTask& stub, bool waiting);
  // REQUIRES: dependents_ built for the waiting lines.
  void LinkDependents(const std::vector<std::vector<uint32_t>>& after);

  static constexpr uint32_t kNone = UINT32_MAX;

  Pool& pool_;
  const RequestRecord& req_;
  AgentRef backlog_;
  Exhaustion& exhaustion_;
  Placer place_;
  std::vector<TaskId> task_;       // by line: its latest task; 0: lost
  std::vector<EntryId> result_;    // by line: the accepted result once done
  std::vector<Line> line_;
  std::vector<uint32_t> pending_deps_;  // waiting lines: dependencies not done
  std::vector<std::string> key_;   // by line: its id, or "line N"
  std::vector<bool> checked_;      // by line: its results go to validation
  // Dependents of each line (CSR over the waiting lines' edges).
  std::vector<uint32_t> dependents_start_, dependents_;
  std::vector<TaskRef> by_task_;   // sorted by id: new posts have larger ids
  std::optional<EntryCursor> results_;  // from Start() on
  std::optional<EntryCursor> endings_;
  uint64_t posted_ = 0;
  std::vector<TaskId> posted_ids_;  // since the last TakePosted()
};

}  // namespace slate::supervisor
