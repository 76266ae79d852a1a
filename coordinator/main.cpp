// slate-coordinator: progress reports and conflict flags for a pool.
#include <boost/program_options.hpp>
#include <iostream>

#include "coordinator_app.h"
#include "slate/cli.h"
#include "slate/process_setup.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  slate::coordinator::CoordinatorConfig cfg;
  std::string log_level;
  po::options_description opts(
      "Usage: slate-coordinator [options]\n\n"
      "Watches a pool: writes progress entries for active requests and flags\n"
      "duplicate assignments, dead or hung workers and expired leases in\n"
      "segment 'conflicts'. Changes no task.\n\nOptions");
  opts.add_options()
      ("help,h", "show this help")
      ("pool", po::value(&cfg.pool)->default_value(slate::DefaultPoolName()),
       "pool name (default: $SLATE_POOL, else slate)")
      ("interval-ms", po::value(&cfg.interval_ms)->default_value(1000), "report interval")
      ("hung-after-ms", po::value(&cfg.hung_after_ms)->default_value(5000),
       "heartbeat age that makes a worker hung")
      ("metrics", po::value(&cfg.metrics),
       "serve Prometheus metrics at http://HOST:PORT/metrics (PORT alone: 127.0.0.1)")
      ("log-level", po::value(&log_level)->default_value("info"),
       "trace, debug, info, warn, error, off");
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-coordinator", argc, argv, opts, nullptr, &vm)) return *rc;
  if (auto rc = slate::CheckRanges("slate-coordinator", vm,
                                   {{"interval-ms", 10, 3'600'000},
                                    {"hung-after-ms", 100, 86'400'000}}))
    return *rc;
  if (auto s = slate::SetUpLogging("slate-coordinator", log_level); !s.ok()) {
    std::cerr << "slate-coordinator: " << s.message() << "\n";
    return 2;
  }
  slate::DieWithParent();
  return slate::coordinator::CoordinatorApp(std::move(cfg)).Run();
}
