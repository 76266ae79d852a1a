// slate-launch: starts and stops slate process groups.
#include <boost/program_options.hpp>
#include <cstring>
#include <iostream>

#include "group_service.h"
#include "run_command.h"
#include "slate/cli.h"
#include "slate/process_setup.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "Usage: slate-launch <command> [options]\n\n"
    "Commands:\n"
    "  run INPUT      run one request end to end on a fresh group and print its result\n"
    "  start          start a group as a service (coordinator, workers, supervisor)\n"
    "  submit INPUT   add a request to a running group and print its result\n"
    "  status         members, requests and tasks of a running group\n"
    "  scale N        grow or shrink a running group to N workers (leavers drain)\n"
    "  cancel         cancel a request's unfinished tasks, or one task (--request, --task)\n"
    "  review         tasks held for a person: list, accept, retry or reject them\n"
    "  logs [MEMBER]  the members' logs (-f to follow)\n"
    "  stop           stop a running group (graceful, then SIGKILL); removes its pool\n\n"
    "slate-dashboard serves a web page over a group (start --dashboard starts one).\n"
    "'slate-launch <command> --help' describes a command.\n";

// What each service command does, for its --help.
std::string Describe(const std::string& command) {
  if (command == "start")
    return "Starts a group as a service on a new pool: a coordinator, the workers and the\n"
           "supervisor(s), kept by a keeper process that restarts what crashes. Requests\n"
           "are then added with submit; stop ends the group. Exit status: 0 started,\n"
           "2 bad options or a group already on the pool, 1 the group did not come up.\n";
  if (command == "submit")
    return "Adds a request to the group running on the pool. It runs beside the group's\n"
           "other requests, most urgent first. Waits for it and prints its result document\n"
           "(JSON; exit status 0 all done, 3 some tasks did not succeed, 5 the request\n"
           "failed), or with --no-wait prints its id at once.\n";
  if (command == "status")
    return "Shows a running group: its members and their state, the lead, the dashboard's\n"
           "address, and its requests and tasks by state. Exit status 1 when no group runs\n"
           "on the pool (and says what was left of one).\n";
  if (command == "scale")
    return "Grows or shrinks the group's workers to N. New workers start at once; leaving\n"
           "ones finish their task in hand first and hand their queue back.\n";
  if (command == "cancel")
    return "Ends a request's unfinished tasks (--request) or one task (--task) as\n"
           "cancelled. A running task's worker stops it within a heartbeat; what depends\n"
           "on a cancelled task is skipped.\n";
  if (command == "review")
    return "The tasks held for a person (a line's on_exhausted review): list shows each\n"
           "with its history; accept gives it a result, retry runs it again (with\n"
           "--feedback, one more round), reject dead-letters it.\n";
  if (command == "logs")
    return "Prints the members' logs (the runtime folder's logs/), or one member's;\n"
           "-f follows them as they grow.\n";
  if (command == "stop")
    return "Stops the group: members get SIGTERM (a worker may finish the task in hand),\n"
           "then SIGKILL after --timeout-ms. Requests still running end with it, unless\n"
           "--drain: then stop first waits until every request submitted has finished\n"
           "(Ctrl-C gives up the wait and leaves the group running). The pool and the\n"
           "runtime folder are removed unless --keep. On a pool with no group (one kept by\n"
           "run --keep, or left by a group that gave up), removes what is left.\n";
  return "";
}

// Options of the service commands; each command takes the ones it needs.
int Service(const std::string& command, int argc, char** argv) {
  slate::launch::ServiceOptions o;
  po::options_description opts("Usage: slate-launch " + command + " [options]" +
                               (command == "submit" ? " INPUT" : command == "scale" ? " N" :
                                command == "logs" ? " [MEMBER]" :
                                command == "review" ? " [list | accept ID | retry ID | reject ID]"
                                                    : "") + "\n\n" + Describe(command) +
                               "\nOptions");
  opts.add_options()("help,h", "show this help")(
      "pool", po::value(&o.pool)->default_value(slate::DefaultPoolName()),
      "pool name (default: $SLATE_POOL, else slate)");
  po::positional_options_description pos;
  std::string log_level = "warn";
  if (command == "start") {
    opts.add_options()
        ("group", po::value(&o.group_file),
         "FILE (JSON, or TOML if named .toml): the supervisors and the groups of workers, "
         "each with its own handler, in place of --workers, --worker-group, --capability, "
         "--handler, --exec, --serve, --python-worker, --shell, --validate and --supervisors")
        ("workers,w", po::value(&o.workers)->default_value(4), "workers to start")
        ("supervisors", po::value(&o.supervisors)->default_value(1),
         "supervisors to start, 1 to 3: one leads, the others stand by and take over when it "
         "dies or its lease runs out")
        ("lead-lease-ms", po::value(&o.lead_lease_ms)->default_value(5000),
         "the leader's lease: a stopped or hung leader is replaced after this long")
        ("worker-group", po::value(&o.worker_specs)->composing(),
         "N:cap1,cap2 -- N more workers with these capabilities (repeatable)")
        ("capability,c", po::value(&o.capabilities)->composing(),
         "a capability of the --workers workers (repeatable)")
        ("handler", po::value(&o.worker.handler)->default_value("echo"), "built-in handler")
        ("exec", po::value(&o.worker.exec), "command each task runs")
        ("serve", po::value(&o.worker.serve),
         "command each worker starts once and keeps: a JSON line in and out per task")
        ("python-worker", po::value(&o.worker.python),
         "MODULE:FUNCTION: the workers are Python processes serving this function "
         "(slate.serve; MODULE is imported from the current folder or PYTHONPATH)")
        ("shell", po::bool_switch(&o.worker.shell), "run --exec, --serve and --validate through /bin/sh -c")
        ("validate", po::value(&o.worker.validate),
         "command that validates plan results (for requests submitted with --validate)")
        ("preempt-grace-ms", po::value(&o.worker.preempt_grace_ms)->default_value(1000),
         "a preempted exec task's process group gets SIGTERM, then SIGKILL after this")
        ("no-fail-fast", po::bool_switch(&o.no_fail_fast),
         "retry every task to the end even when every worker fails a request's tasks the same "
         "way (by default the request then stops with that error, exit 5)")
        ("preempt-margin", po::value(&o.preempt_margin)->default_value(1),
         "urgent work preempts a running task lower by at least this much (0: never)")
        ("age-ms", po::value(&o.age_ms)->default_value(1000),
         "aging: a waiting task's priority, and a request's that gets no worker, count one "
         "more for each this many ms of waiting (0: off)")
        ("policy", po::value(&o.policy)->default_value("round-robin"), "delegation policy")
        ("max-retries", po::value(&o.max_retries)->default_value(2), "retries per task")
        ("max-pending", po::value(&o.max_pending)->default_value(2), "tasks queued per worker")
        ("slots", po::value(&o.slots)->default_value(262144), "pool entry slots")
        ("reserve", po::bool_switch(&o.reserve),
         "allocate the whole pool in /dev/shm now (fails at once if it has no room) "
         "instead of as entries need it")
        ("group-mode", po::bool_switch(&o.group_mode),
         "pool mode 0660: members of your group may join it with SLATE_TRUST_GROUP=1")
        ("max-restarts", po::value(&o.max_restarts)->default_value(0),
         "strict restart budget (0: restart crashed members with a backoff instead) ...")
        ("restart-window-s", po::value(&o.restart_window_s)->default_value(60), "... per window")
        ("restart-delay-ms", po::value(&o.restart_delay_ms)->default_value(100),
         "backoff: a crash-looping member's first restart delay, doubling ...")
        ("restart-delay-max-ms", po::value(&o.restart_delay_max_ms)->default_value(10000),
         "... up to this")
        ("lease-ms", po::value(&o.lease_ms)->default_value(30000),
         "workers' claim lease: a task held longer without renewal is reassigned")
        ("hung-after-ms", po::value(&o.hung_after_ms)->default_value(5000),
         "a worker whose heartbeat is older is hung: its tasks are reassigned")
        ("supervisor-arg", po::value(&o.supervisor_args)->composing(),
         "pass one more argument to slate-supervisor (repeatable)")
        ("metrics", po::value(&o.metrics),
         "the coordinator serves Prometheus metrics at http://HOST:PORT/metrics (PORT alone: "
         "127.0.0.1)")
        ("log-level", po::value(&o.log_level)->default_value("info"),
         "log level of the group's members (their logs: slate-launch logs)")
        ("dashboard", po::value(&o.dashboard)->implicit_value("127.0.0.1:0"),
         "also serve the web dashboard, at HOST:PORT (default 127.0.0.1 and a free port); "
         "start and status print its address, its token is in the runtime folder");
  } else if (command == "submit") {
    opts.add_options()
        ("split", po::value(&o.split)->default_value("jsonl"), "jsonl, lines or files")
        ("no-wait", po::bool_switch(&o.no_wait), "print the request id and return at once")
        ("priority", po::value(&o.priority)->default_value(0),
         "added to each line's priority (-128..127): of the requests waiting for the group, "
         "the most urgent starts first")
        ("validate", po::bool_switch(&o.plan.options.validate),
         "validate each result with the group's validator (slate-launch start --validate)")
        ("input", po::value(&o.input), "request file or directory");
    slate::supervisor::AddPlanFlags(opts, &o.plan);
    pos.add("input", 1);
  } else if (command == "scale") {
    opts.add_options()("workers", po::value(&o.workers), "the number of workers wanted")(
        "timeout-ms", po::value(&o.timeout_ms)->default_value(30000), "how long to wait for it");
    pos.add("workers", 1);
  } else if (command == "logs") {
    opts.add_options()("follow,f", po::bool_switch(&o.follow), "keep printing as logs grow")(
        "member", po::value(&o.member), "one member's log (e.g. worker-2, supervisor, keeper)");
    pos.add("member", 1);
  } else if (command == "cancel") {
    opts.add_options()("request", po::value(&o.request), "cancel every unfinished task of it")(
        "task", po::value(&o.task), "cancel one task: its pool id, or its line's id");
  } else if (command == "review") {
    opts.add_options()
        ("action", po::value(&o.action), "list (the default), accept, retry or reject")
        ("task", po::value(&o.task), "the held task: its pool id, or its line's id")
        ("result", po::value(&o.result), "accept: the task's result, as JSON")
        ("result-file", po::value(&o.result_file), "accept: a file holding the result")
        ("feedback", po::value(&o.feedback),
         "retry: one more feedback round for its command; reject: why")
        ("json", po::bool_switch(&o.json), "list: print the held tasks as JSON");
    pos.add("action", 1).add("task", 1);
  } else if (command == "stop") {
    opts.add_options()("keep", po::bool_switch(&o.keep),
                       "keep the pool and logs for inspection; a later stop removes them")(
        "drain", po::bool_switch(&o.drain),
        "first wait for every running request to finish (requests submitted meanwhile too)")(
        "timeout-ms", po::value(&o.timeout_ms)->default_value(10000),
        "grace before members are killed");
  }
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine(("slate-launch " + command).c_str(), argc, argv, opts,
                                        &pos, &vm))
    return *rc;
  if (command == "submit")
    if (auto rc = slate::supervisor::FinishPlanFlags("slate-launch submit", vm, &o.plan))
      return *rc;
  if (command == "submit" && o.input.empty()) {
    std::cerr << "slate-launch submit: missing INPUT (see --help)\n";
    return 2;
  }
  if (command == "start") {
    if (auto rc = slate::CheckRanges("slate-launch start", vm,
                                     {{"supervisors", 1, 3}, {"lead-lease-ms", 100, 3'600'000}}))
      return *rc;
    if (!o.group_file.empty())
      for (const char* flag : {"workers", "worker-group", "capability", "handler", "exec",
                               "serve", "python-worker", "shell", "validate", "supervisors"})
        if (vm.count(flag) && !vm[flag].defaulted()) {
          std::cerr << "slate-launch start: --group " << o.group_file
                    << " describes the workers and supervisors; drop --" << flag << "\n";
          return 2;
        }
  }
  if (command == "scale" && !vm.count("workers")) {
    std::cerr << "slate-launch scale: missing N (see --help)\n";
    return 2;
  }
  if (auto s = slate::SetUpLogging("slate-launch", log_level); !s.ok()) return 2;
  if (command == "start") return slate::launch::StartService(o);
  if (command == "submit") return slate::launch::SubmitToService(o);
  if (command == "status") return slate::launch::ServiceStatus(o);
  if (command == "scale") return slate::launch::ScaleService(o);
  if (command == "cancel") return slate::launch::CancelTasks(o);
  if (command == "review") return slate::launch::ReviewTasks(o);
  if (command == "logs") return slate::launch::ServiceLogs(o);
  return slate::launch::StopService(o);
}

int Run(int argc, char** argv) {
  slate::launch::RunOptions o;
  po::options_description opts(
      "Usage: slate-launch run [options] INPUT\n\n"
      "Creates a pool, starts a coordinator, workers and a supervisor as separate\n"
      "processes, runs INPUT as one request, prints the aggregated result (JSON)\n"
      "on stdout, then stops the group and removes the pool. Ctrl-C stops\n"
      "everything. Exit status: 0 all done, 3 some tasks dead-lettered, skipped,\n"
      "cancelled or lost, 5 the request failed (--on-exhausted fail-request, or\n"
      "every worker failed its tasks the same way: see --no-fail-fast), 2 bad\n"
      "input or usage (nothing started), 1 failure, 130 interrupted.\n\nOptions");
  opts.add_options()
      ("help,h", "show this help")
      ("pool", po::value(&o.pool)->default_value(slate::DefaultPoolName()),
       "pool name (default: $SLATE_POOL, else slate)")
      ("group", po::value(&o.group_file),
       "FILE (JSON, or TOML if named .toml): the supervisors and the groups of workers, each "
       "with its own handler, in place of --workers, --worker-group, --capability, --handler, "
       "--exec, --serve, --python-worker, --shell, --validate and --supervisors "
       "(docs/COMMANDS.md: Describing a group in a file)")
      ("workers,w", po::value(&o.workers)->default_value(4), "workers to start")
      ("supervisors", po::value(&o.supervisors)->default_value(1),
       "supervisors to start, 1 to 3: one leads, the others stand by and take over when it "
       "dies or its lease runs out")
      ("lead-lease-ms", po::value(&o.lead_lease_ms)->default_value(5000),
       "the leader's lease: a stopped or hung leader is replaced after this long")
      ("worker-group", po::value(&o.worker_specs)->composing(),
       "N:cap1,cap2 -- N more workers with these capabilities (repeatable)")
      ("capability,c", po::value(&o.capabilities)->composing(),
       "a capability of the --workers workers (repeatable)")
      ("handler", po::value(&o.worker.handler)->default_value("echo"),
       "echo, wordcount, sha256, sleep, fail or exec")
      ("exec", po::value(&o.worker.exec),
       "command each task runs (payload on stdin; a plan's envelope for plans)")
      ("serve", po::value(&o.worker.serve),
       "command each worker starts once and keeps alive across tasks: the payload as one "
       "JSON line on its stdin, the result as one JSON line on its stdout "
       "(docs/COMMANDS.md: Long-lived commands)")
      ("python-worker", po::value(&o.worker.python),
       "MODULE:FUNCTION: the workers are Python processes serving this function "
       "(slate.serve; MODULE is imported from the current folder or PYTHONPATH)")
      ("shell", po::bool_switch(&o.worker.shell), "run --exec, --serve and --validate through /bin/sh -c")
      ("validate", po::value(&o.worker.validate),
       "command that checks each result: reads {\"id\", \"payload\", \"context\", "
       "\"result\", \"iteration\"}, prints {\"ok\": true} or {\"ok\": false, "
       "\"feedback\": \"...\"}; a failed check runs the task again with the feedback")
      ("split", po::value(&o.split)->default_value("jsonl"), "jsonl, lines or files")
      ("policy", po::value(&o.policy)->default_value("round-robin"),
       "round-robin or least-loaded")
      ("max-retries", po::value(&o.max_retries)->default_value(2), "retries per task")
      ("max-pending", po::value(&o.max_pending)->default_value(2), "tasks queued per worker")
      ("slots", po::value(&o.slots)->default_value(0), "pool entry slots (0: sized to INPUT)")
      ("reserve", po::bool_switch(&o.reserve),
       "allocate the whole pool in /dev/shm now (fails at once if it has no room) "
       "instead of as entries need it")
      ("group-mode", po::bool_switch(&o.group_mode),
       "pool mode 0660: members of your group may join it with SLATE_TRUST_GROUP=1")
      ("no-worker-timeout-ms", po::value(&o.no_worker_timeout_ms)->default_value(30000),
       "dead-letter a task no live worker can take after this long")
      ("max-restarts", po::value(&o.max_restarts)->default_value(0),
       "0: restart a crashed member at once, then after 0.1, 0.2, 0.4 ... up to 10 s while "
       "it keeps crashing; the group stops only when every worker (or the supervisor) has "
       "crashed 8 times in a row. N: a strict budget, at most N restarts ...")
      ("restart-window-s", po::value(&o.restart_window_s)->default_value(60),
       "... within any window of this many seconds; past it the group stops")
      ("restart-delay-ms", po::value(&o.restart_delay_ms)->default_value(100),
       "backoff: a crash-looping member's first restart delay, doubling ...")
      ("restart-delay-max-ms", po::value(&o.restart_delay_max_ms)->default_value(10000),
       "... up to this")
      ("lease-ms", po::value(&o.lease_ms)->default_value(30000),
       "workers' claim lease: a task held longer without renewal is reassigned")
      ("hung-after-ms", po::value(&o.hung_after_ms)->default_value(5000),
       "a worker whose heartbeat is older is hung: its tasks are reassigned")
      ("no-fail-fast", po::bool_switch(&o.no_fail_fast),
       "retry every task to the end even when every worker fails the request's tasks the same "
       "way (by default the request then stops with that error, exit 5)")
      ("preempt-margin", po::value(&o.preempt_margin)->default_value(1),
       "a task no worker has room for stops the least urgent running task if its priority "
       "is lower by at least this much; that task runs again later (0: never preempt)")
      ("preempt-grace-ms", po::value(&o.worker.preempt_grace_ms)->default_value(1000),
       "a preempted exec task's process group gets SIGTERM (time to save a checkpoint), "
       "then SIGKILL after this")
      ("age-ms", po::value(&o.age_ms)->default_value(1000),
       "aging: a waiting task's priority counts one more for each this many ms it has "
       "waited, so low-priority work is never starved (0: off)")
      ("supervisor-arg", po::value(&o.supervisor_args)->composing(),
       "pass one more argument to slate-supervisor (repeatable)")
      ("output,o", po::value(&o.output), "also write the result JSON to this file")
      ("keep", po::bool_switch(&o.keep),
       "keep the pool after the run, for slate-dump; slate-launch stop --pool P removes it")
      ("log-level", po::value(&o.log_level)->default_value("warn"),
       "log level of the group's members")
      ("input", po::value(&o.input), "request file or directory");
  slate::supervisor::AddPlanFlags(opts, &o.plan);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-launch run", argc, argv, opts, &pos, &vm)) return *rc;
  if (auto rc = slate::supervisor::FinishPlanFlags("slate-launch run", vm, &o.plan)) return *rc;
  if (auto rc = slate::CheckRanges("slate-launch run", vm,
                                   {{"max-retries", 0, 255},
                                    {"max-pending", 1, 1024},
                                    {"no-worker-timeout-ms", 1, 86'400'000},
                                    {"lease-ms", 100, 86'400'000},
                                    {"hung-after-ms", 100, 86'400'000},
                                    {"restart-window-s", 1, 86'400},
                                    {"preempt-margin", 0, 255},
                                    {"preempt-grace-ms", 0, 3'600'000},
                                    {"age-ms", 0, 86'400'000},
                                    {"restart-delay-ms", 1, 3'600'000},
                                    {"restart-delay-max-ms", 1, 3'600'000},
                                    {"supervisors", 1, 3},
                                    {"lead-lease-ms", 100, 3'600'000}}))
    return *rc;
  if (o.input.empty()) {
    std::cerr << "slate-launch run: missing INPUT (see --help)\n";
    return 2;
  }
  if (!o.group_file.empty())
    for (const char* flag : {"workers", "worker-group", "capability", "handler", "exec",
                             "serve", "python-worker", "shell", "validate", "supervisors"})
      if (vm.count(flag) && !vm[flag].defaulted()) {
        std::cerr << "slate-launch run: --group " << o.group_file
                  << " describes the workers and supervisors; drop --" << flag << "\n";
        return 2;
      }
  // Logs go to stderr: stdout carries the result and nothing else.
  if (auto s = slate::SetUpLogging("slate-launch", o.log_level); !s.ok()) {
    std::cerr << "slate-launch run: " << s.message() << "\n";
    return 2;
  }
  return slate::launch::RunGroup(o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "slate-launch: a command is needed\n\n" << kUsage;
    return 2;
  }
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::cout << kUsage;
    return 0;
  }
  const std::string command = argv[1];
  if (command == "run") return Run(argc - 1, argv + 1);
  for (const char* c : {"start", "submit", "status", "scale", "cancel", "review", "logs", "stop"})
    if (command == c) return Service(command, argc - 1, argv + 1);
  std::cerr << "slate-launch: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
