// slate-supervisor: turns a request into tasks, delegates them to live
// workers, retries failures, dead-letters what cannot succeed, and prints
// the aggregated result.
//
// All state is in the pool: the request entry, the tasks (its backlog is
// its own agent queue), results and errors. A supervisor started on a pool
// that holds an unfinished request resumes it; a dead predecessor's backlog
// is adopted.
#pragma once

#include <cstdint>
#include <string>

#include "request/request_store.h"

namespace slate::supervisor {

struct SupervisorConfig {
  std::string pool;
  std::string input;  // empty: resume the pool's active request
  std::string split = "jsonl";
  std::string policy = "round-robin";
  std::string output;  // also write the result JSON here
  bool serve = false;  // run requests as they are submitted, until stopped
  // Replaces a supervisor that died: resume the pool's request, and use
  // `input` only if the pool never stored one (the one before died first).
  bool replacing = false;
  // When another supervisor leads, wait and take over when it is gone or
  // its lease runs out (lead/take_lead.h), rather than leave.
  bool standby = false;
  uint32_t max_pending = 2;            // per worker
  uint32_t default_max_retries = 2;
  uint32_t backoff_base_ms = 100;
  uint32_t backoff_max_ms = 5000;
  uint32_t no_worker_timeout_ms = 30000;
  uint32_t wait_workers = 0;           // wait for this many before delegating
  uint32_t wait_workers_ms = 10000;
  uint32_t heartbeat_ms = 200;
  uint32_t hung_after_ms = 5000;       // heartbeat age of a hung worker
  uint32_t breaker_failures = 3;       // consecutive failures that open it
  bool fail_fast = true;  // a request every worker fails the same way stops
  uint32_t breaker_cooldown_ms = 5000;
  uint64_t seed = 0;                   // backoff jitter; 0: from the clock
  PlanOptions plan;                    // how a request it reads runs
  // A task no worker has room for preempts a running one lower by at least
  // this much (0: never).
  uint32_t preempt_margin = 1;
  // Aging: a waiting task's priority rises by one for each age_ms it has
  // been in the pool, for the backlog's order and for preemption (0: off).
  uint32_t age_ms = 1000;
  // The pool's lead: held for this long, renewed when half of it is gone;
  // another supervisor may take it only once the holder is gone or the
  // lease has run out (Pool::AcquireLeadership).
  uint32_t lead_lease_ms = 5000;
  uint64_t term = 0;  // the lead's term held, once registered
  // A supervision tree's sub-supervisor (tree/team_supervisor.h) leads
  // `team`: it serves in `parent_team` as a worker named `name` with the
  // capability `team`, and runs each task it takes as a sub-request over
  // its team's workers. Empty: the top level's supervisor.
  std::string team;
  std::string parent_team;
  std::string name;        // empty: the team's name
  std::string decompose;   // a task on stdin, its subtasks as JSON Lines out
  std::string synthesize;  // the sub-request's results on stdin, the task's result out
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;
inline constexpr int kExitFailed = 5;  // on_exhausted fail-request stopped it
// The statuses of a request that ran to its end (a result was written).
inline bool RanToEnd(int rc) { return rc == kExitOk || rc == kExitPartial || rc == kExitFailed; }
// Logs the error that stops a run. kStaleTerm: another supervisor took over
// while this one was stopped or hung past its lease; every change it tries
// is refused, so it stops, and its successor adopts what it held.
void LogFatal(const Status& s);

class SupervisorApp {
 public:
  explicit SupervisorApp(SupervisorConfig config) : config_(std::move(config)) {}
  int Run();

 private:
  SupervisorConfig config_;
};

}  // namespace slate::supervisor
