// slate-supervisor: runs one request over a pool's workers.
#include <boost/program_options.hpp>
#include <iostream>

#include "plan/plan_flags.h"
#include "slate/cli.h"
#include "slate/process_setup.h"
#include "supervisor_app.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  slate::supervisor::SupervisorConfig cfg;
  slate::supervisor::PlanFlags plan;
  std::string log_level;
  bool no_fail_fast = false;
  po::options_description opts(
      "Usage: slate-supervisor [options] [INPUT]\n\n"
      "Decomposes INPUT into tasks, delegates them to the pool's live workers,\n"
      "retries failures and prints the aggregated result as JSON. Without INPUT\n"
      "it resumes the pool's unfinished request.\n\n"
      "Of the supervisors of one pool, one leads, under a lease with a term\n"
      "number; the others leave, or with --standby wait to take over. A leader\n"
      "whose term is over can change nothing: the pool refuses it.\n\n"
      "With --team it is a sub-supervisor of a supervision tree: it takes the\n"
      "tasks of its parent's team that require the capability TEAM, runs each\n"
      "as a sub-request over the workers of team TEAM (slate-worker --team),\n"
      "and completes the task with the sub-request's results.\n\n"
      "Exit status: 0 all tasks done, 3 some dead-lettered, skipped, cancelled\n"
      "or lost, 5 the request failed (on-exhausted fail-request, or every\n"
      "worker failed its tasks the same way), 2 bad input or usage, 1 internal\n"
      "error or the lead lost.\n\nOptions");
  opts.add_options()
      ("help,h", "show this help")
      ("pool", po::value(&cfg.pool)->default_value(slate::DefaultPoolName()),
       "pool name (default: $SLATE_POOL, else slate)")
      ("input", po::value(&cfg.input), "request file or directory")
      ("replacing", po::bool_switch(&cfg.replacing),
       "this supervisor replaces one that died: resume the pool's request, or "
       "if it never stored one, post INPUT (slate-launch restarts with this)")
      ("standby", po::bool_switch(&cfg.standby),
       "when another supervisor leads the pool, wait and take over when it is gone or its "
       "lease runs out (the standby then resumes the pool's requests); without it, leave")
      ("serve", po::bool_switch(&cfg.serve),
       "run requests as they are submitted (slate-launch submit) until SIGTERM")
      ("split", po::value(&cfg.split)->default_value("jsonl"),
       "jsonl (a task a line), lines (a line a task) or files (a file of a directory a task)")
      ("policy", po::value(&cfg.policy)->default_value("round-robin"),
       "round-robin or least-loaded")
      ("output,o", po::value(&cfg.output), "also write the result JSON to this file")
      ("max-pending", po::value(&cfg.max_pending)->default_value(2),
       "tasks queued or running per worker at most")
      ("max-retries", po::value(&cfg.default_max_retries)->default_value(2),
       "retries for tasks that set none")
      ("backoff-base-ms", po::value(&cfg.backoff_base_ms)->default_value(100),
       "first retry delay; doubles per attempt, with jitter")
      ("backoff-max-ms", po::value(&cfg.backoff_max_ms)->default_value(5000), "retry delay cap")
      ("no-worker-timeout-ms", po::value(&cfg.no_worker_timeout_ms)->default_value(30000),
       "dead-letter a task no live worker can take after this long")
      ("wait-workers", po::value(&cfg.wait_workers)->default_value(0),
       "wait for this many workers before delegating")
      ("wait-workers-ms", po::value(&cfg.wait_workers_ms)->default_value(10000),
       "how long to wait for them")
      ("heartbeat-ms", po::value(&cfg.heartbeat_ms)->default_value(200), "heartbeat interval")
      ("hung-after-ms", po::value(&cfg.hung_after_ms)->default_value(5000),
       "a worker whose heartbeat is this old gets no new tasks")
      ("breaker-failures", po::value(&cfg.breaker_failures)->default_value(3),
       "consecutive failures that take a worker out of rotation (0: never)")
      ("breaker-cooldown-ms", po::value(&cfg.breaker_cooldown_ms)->default_value(5000),
       "how long it stays out before probation")
      ("no-fail-fast", po::bool_switch(&no_fail_fast),
       "retry each task to the end even when every worker has failed two or more of a "
       "request's tasks with the same error and none succeeded (by default the request then "
       "stops with that error, exit 5)")
      ("seed", po::value(&cfg.seed)->default_value(0), "backoff jitter seed (0: clock)")
      ("preempt-margin", po::value(&cfg.preempt_margin)->default_value(1),
       "a task no worker has room for preempts the least urgent running task if that one's "
       "urgency (its priority, raised if it waited to be placed) is lower than the task's "
       "priority by at least this much (0: never preempt)")
      ("age-ms", po::value(&cfg.age_ms)->default_value(1000),
       "aging: a waiting task's priority counts one more for each this many ms it has been "
       "in the pool, and a request's for each this many ms it gets no worker, so "
       "low-priority work is never starved (0: off)")
      ("lead-lease-ms", po::value(&cfg.lead_lease_ms)->default_value(5000),
       "the pool's lead is held this long between renewals; another supervisor may take it "
       "over only once this one is gone or its lease has run out")
      ("team", po::value(&cfg.team),
       "lead this team of a supervision tree as its sub-supervisor (implies --serve)")
      ("parent-team", po::value(&cfg.parent_team),
       "with --team: the team it takes tasks from (default: the top level)")
      ("name", po::value(&cfg.name),
       "with --team: its name as a member of the parent's team (default: TEAM)")
      ("decompose", po::value(&cfg.decompose),
       "with --team: a command that gets a task's payload on stdin and prints its "
       "subtasks as JSON Lines (request lines); used for tasks without \"subtasks\"")
      ("synthesize", po::value(&cfg.synthesize),
       "with --team: a command that gets {\"task\", \"results\"} on stdin and prints the "
       "task's result (default: the subtasks' results)")
      ("validate", po::bool_switch(&plan.options.validate),
       "send each result to a validation task (run by workers started with --validate)")
      ("log-level", po::value(&log_level)->default_value("info"),
       "trace, debug, info, warn, error, off");
  slate::supervisor::AddPlanFlags(opts, &plan);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-supervisor", argc, argv, opts, &pos, &vm)) return *rc;
  if (auto rc = slate::CheckRanges("slate-supervisor", vm,
                                   {{"max-pending", 1, 1024},
                                    {"max-retries", 0, 255},
                                    {"backoff-base-ms", 1, 3'600'000},
                                    {"backoff-max-ms", 1, 86'400'000},
                                    {"no-worker-timeout-ms", 1, 86'400'000},
                                    {"wait-workers", 0, 1024},
                                    {"wait-workers-ms", 0, 86'400'000},
                                    {"heartbeat-ms", 10, 60'000},
                                    {"hung-after-ms", 100, 86'400'000},
                                    {"breaker-failures", 0, 1000},
                                    {"breaker-cooldown-ms", 0, 86'400'000},
                                    {"preempt-margin", 0, 255},
                                    {"age-ms", 0, 86'400'000},
                                    {"lead-lease-ms", 100, 3'600'000}}))
    return *rc;
  if (auto rc = slate::supervisor::FinishPlanFlags("slate-supervisor", vm, &plan)) return *rc;
  cfg.plan = plan.options;
  cfg.fail_fast = !no_fail_fast;
  if (auto s = slate::SetUpLogging("slate-supervisor", log_level); !s.ok()) {
    std::cerr << "slate-supervisor: " << s.message() << "\n";
    return slate::supervisor::kExitUsage;
  }
  slate::DieWithParent();
  return slate::supervisor::SupervisorApp(std::move(cfg)).Run();
}
