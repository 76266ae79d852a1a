// slate-worker: claims tasks from a pool and runs a handler on each.
#include <boost/program_options.hpp>
#include <iostream>

#include "slate/cli.h"
#include "slate/process_setup.h"
#include "worker_app.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  slate::worker::WorkerConfig cfg;
  std::string log_level;
  std::string serve_command;
  po::options_description opts(
      "Usage: slate-worker [options]\n\n"
      "Registers in a pool, claims the tasks delegated to it (highest priority\n"
      "first) and runs a handler on each. SIGTERM lets the current task finish\n"
      "(within --drain-ms, else it is released), hands queued tasks back to the\n"
      "supervisor and exits 0.\n\nOptions");
  opts.add_options()
      ("help,h", "show this help")
      ("pool", po::value(&cfg.pool)->default_value(slate::DefaultPoolName()),
       "pool name (default: $SLATE_POOL, else slate)")
      ("name", po::value(&cfg.name), "agent name (default: worker-<pid>)")
      ("handler", po::value(&cfg.handler.name)->default_value("echo"),
       "echo, wordcount, sha256, sleep, fail, exec or serve")
      ("exec", po::value(&cfg.handler.exec_command),
       "command to run per task (handler exec); split into words, no shell")
      ("serve", po::value(&serve_command),
       "command started once and kept alive (handler serve): one JSON line per task on its "
       "stdin, one JSON line back on its stdout, {\"error\": \"...\"} to fail the task")
      ("shell", po::bool_switch(&cfg.handler.exec_shell),
       "run --exec, --serve and --validate through /bin/sh -c")
      ("validate", po::value(&cfg.validate_command),
       "command that checks plan results: reads {\"id\", \"payload\", \"context\",\n"
       "\"result\", \"iteration\"} on stdin, prints {\"ok\": true} or\n"
       "{\"ok\": false, \"feedback\": \"...\"}; gives the worker capability 'validate'")
      ("capability,c", po::value(&cfg.capabilities)->composing(),
       "a capability this worker has (repeatable)")
      ("team", po::value(&cfg.team),
       "the team it works in, in a supervision tree: only the supervisor that leads it "
       "(slate-supervisor --team) hands it work (default: the top level)")
      ("max-output", po::value(&cfg.handler.max_output_bytes)->default_value(512 * 1024),
       "exec: stdout bytes allowed before the task fails; serve: the longest answer line")
      ("timeout-ms", po::value(&cfg.handler.default_timeout_ms)->default_value(0),
       "time limit for tasks that set none (0: none)")
      ("stop-grace-ms", po::value(&cfg.handler.stop_grace_ms)->default_value(2000),
       "exec and serve: a cancelled task's process group gets SIGTERM, then SIGKILL after this")
      ("preempt-grace-ms", po::value(&cfg.handler.preempt_grace_ms)->default_value(1000),
       "exec: the same for a task taken back to run again later (preempted, reassigned)")
      ("lease-ms", po::value(&cfg.lease_ms)->default_value(30000), "claim lease")
      ("heartbeat-ms", po::value(&cfg.heartbeat_ms)->default_value(200), "heartbeat interval")
      ("drain-ms", po::value(&cfg.drain_ms)->default_value(2000),
       "on SIGTERM, how long the current task may still run before it is released")
      ("log-level", po::value(&log_level)->default_value("info"),
       "trace, debug, info, warn, error, off");
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-worker", argc, argv, opts, nullptr, &vm)) return *rc;
  if (auto rc = slate::CheckRanges("slate-worker", vm,
                                   {{"max-output", 1, 1u << 30},
                                    {"timeout-ms", 0, 86'400'000},
                                    {"lease-ms", 100, 86'400'000},
                                    {"heartbeat-ms", 10, 60'000},
                                    {"drain-ms", 0, 3'600'000},
                                    {"stop-grace-ms", 0, 3'600'000},
                                    {"preempt-grace-ms", 0, 3'600'000}}))
    return *rc;
  if (!serve_command.empty()) {
    if (!cfg.handler.exec_command.empty()) {
      std::cerr << "slate-worker: give --exec (a process per task) or --serve (one kept alive), "
                   "not both\n";
      return 2;
    }
    if (vm.count("handler") && !vm["handler"].defaulted() && cfg.handler.name != "serve") {
      std::cerr << "slate-worker: --serve is given, but the handler is '" << cfg.handler.name
                << "', not 'serve'\n";
      return 2;
    }
    cfg.handler.name = "serve";
    cfg.handler.exec_command = serve_command;
  } else if (!vm.count("handler") || vm["handler"].defaulted()) {
    if (!cfg.handler.exec_command.empty()) cfg.handler.name = "exec";
  }
  if (auto s = slate::SetUpLogging("slate-worker", log_level); !s.ok()) {
    std::cerr << "slate-worker: " << s.message() << "\n";
    return 2;
  }
  slate::DieWithParent();
  return slate::worker::WorkerApp(std::move(cfg)).Run();
}
