// slate-launch run: one request end to end. Creates a fresh pool, starts
// the coordinator, N workers and the supervisor as separate processes,
// waits for the supervisor, relays its result, stops the group and removes
// the pool (unless --keep). A member that crashes is restarted, with a
// backoff, or within a strict budget (restarter.h). Ctrl-C or SIGTERM
// stops everything and leaves no process and no pool behind.
#pragma once

#include <string>
#include <vector>

#include "plan/plan_flags.h"
#include "worker_args.h"

namespace slate::launch {

struct RunOptions {
  std::string pool;
  std::string input;
  std::string split = "jsonl";
  std::string policy = "round-robin";
  WorkerFlags worker;  // handler, exec, shell, validate
  std::vector<std::string> capabilities;  // given to every worker
  std::vector<std::string> worker_specs;  // "N:cap1,cap2" worker groups
  uint32_t workers = 4;
  // Supervisors started: one leads, the others stand by (--standby).
  uint32_t supervisors = 1;
  uint32_t lead_lease_ms = 5000;  // slate-supervisor --lead-lease-ms
  uint32_t max_retries = 2;
  uint32_t max_pending = 2;
  uint32_t slots = 0;  // 0: sized from the request
  bool group_mode = false;  // pool mode 0660 instead of 0600
  bool reserve = false;     // PoolOptions::reserve
  uint32_t no_worker_timeout_ms = 30000;
  uint32_t max_restarts = 0;        // strict restart intensity (0: back off): at most this many
  uint32_t restart_window_s = 60;
  uint32_t restart_delay_ms = 100;       // backoff: the first delay, doubling ...
  uint32_t restart_delay_max_ms = 10000;  // ... up to this   // restarts in any window this long
  uint32_t lease_ms = 30000;        // workers' claim lease
  uint32_t hung_after_ms = 5000;    // heartbeat age of a hung worker
  uint32_t preempt_margin = 1;      // 0: never preempt
  bool no_fail_fast = false;        // slate-supervisor --no-fail-fast
  uint32_t age_ms = 1000;           // aging (slate-supervisor --age-ms); 0: off
  supervisor::PlanFlags plan;  // context bytes, iterations, on exhausted
  std::vector<std::string> supervisor_args;  // passed through verbatim
  // --group FILE: the workers and supervisors as the file describes them
  // (group_file.h), in place of the worker and supervisor flags.
  std::string group_file;
  std::string output;
  std::string log_level = "warn";
  bool keep = false;
};

// Exit status: the supervisor's (0, 3), 2 for bad input or usage (nothing
// started), 1 when the group fails, 130 when interrupted.
int RunGroup(const RunOptions& options);

}  // namespace slate::launch
