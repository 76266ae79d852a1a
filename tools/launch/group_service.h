// slate-launch's service mode: a group that outlives the command that
// started it. `start` daemonizes a keeper that owns the members (restarting
// crashed ones within the restart budget) and serves requests through a
// supervisor in --serve mode. The other commands talk to it through the pool
// (segment "control") and its runtime folder:
//   $XDG_RUNTIME_DIR/slate/<pool>/ (else /tmp/slate-<uid>/<pool>/)
//     group.json     keeper pid and members' pids
//     logs/*.log     each member's stdout and stderr
//     results/       submitted requests' results
// `stop` removes the pool and this folder; `stop --keep` keeps both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan_flags.h"
#include "group_file.h"
#include "worker_args.h"

namespace slate::launch {

struct ServiceOptions {
  std::string pool;
  uint32_t workers = 4;
  // start: --group FILE describes the workers and supervisors; `groups`
  // holds them, from the file or the flags, once checked.
  std::string group_file;
  std::vector<WorkerGroupSpec> groups;
  std::vector<TeamSpec> teams;  // a tree's sub-supervisors and their teams
  uint32_t supervisors = 1;       // one leads, the others stand by
  uint32_t lead_lease_ms = 5000;  // slate-supervisor --lead-lease-ms
  WorkerFlags worker;  // handler, exec, shell, validate
  std::vector<std::string> capabilities;  // given to the --workers workers
  std::vector<std::string> worker_specs;  // "N:cap1,cap2" worker groups
  std::string policy = "round-robin";
  uint32_t max_retries = 2;
  uint32_t max_pending = 2;
  uint32_t preempt_margin = 1;  // slate-supervisor --preempt-margin
  bool no_fail_fast = false;    // slate-supervisor --no-fail-fast
  uint32_t age_ms = 1000;       // slate-supervisor --age-ms
  uint32_t slots = 262144;
  bool group_mode = false;  // pool mode 0660 instead of 0600
  bool reserve = false;     // PoolOptions::reserve
  std::string dashboard;    // start: serve slate-dashboard here ("" none)
  std::string log_level = "info";
  uint32_t max_restarts = 0;  // 0: back off (restarter.h); else strict
  uint32_t restart_window_s = 60;
  uint32_t restart_delay_ms = 100;       // backoff: the first delay, doubling ...
  uint32_t restart_delay_max_ms = 10000;  // ... up to this
  uint32_t lease_ms = 30000;        // workers' claim lease
  uint32_t hung_after_ms = 5000;    // heartbeat age of a hung worker
  std::vector<std::string> supervisor_args;  // passed through verbatim
  std::string metrics;              // the coordinator's --metrics ("" none)
  // submit
  std::string input;
  std::string split = "jsonl";
  bool no_wait = false;
  int priority = 0;  // submit: the request's, added to each line's
  supervisor::PlanFlags plan;  // context bytes, iterations, on exhausted
  // cancel
  std::string request;
  std::string task;
  // review
  std::string action;       // list, accept, retry, reject
  std::string result;       // accept: the result as JSON
  std::string result_file;  // accept: a file holding it
  std::string feedback;     // retry: one more feedback round; reject: why
  bool json = false;        // list as JSON
  // stop
  bool keep = false;
  bool drain = false;  // wait for the running requests to finish first
  uint32_t timeout_ms = 10000;
  // logs
  std::string member;
  bool follow = false;
};

std::string RuntimeDir(const std::string& pool);

int StartService(const ServiceOptions& o);
int SubmitToService(const ServiceOptions& o);
int ServiceStatus(const ServiceOptions& o);
int ScaleService(const ServiceOptions& o);
// Cancels tasks in any pool, whoever runs it (a service, `run`, by hand).
int CancelTasks(const ServiceOptions& o);
int ReviewTasks(const ServiceOptions& o);
int ServiceLogs(const ServiceOptions& o);
int StopService(const ServiceOptions& o);

}  // namespace slate::launch
