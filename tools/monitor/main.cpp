// slate-monitor: a live view of a running pool.
#include <boost/program_options.hpp>
#include <cstdio>

#include "monitor_app.h"
#include "slate/cli.h"
#include "slate/process_setup.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  slate::monitor::MonitorConfig cfg;
  po::options_description opts(
      "Usage: slate-monitor [options]\n\n"
      "Attaches read-only to a pool and shows, live and full-screen: progress per\n"
      "request, throughput over the last minute, workers (state, current task,\n"
      "done, failed, heartbeat age, breaker), segment usage and the latest errors\n"
      "and conflicts. Keys: q quit, p pause, ? help. Fits 80x24; no colour needed.\n\n"
      "Options");
  opts.add_options()
      ("help,h", "show this help")
      ("pool", po::value(&cfg.pool)->default_value(slate::DefaultPoolName()),
       "pool name (default: $SLATE_POOL, else slate)")
      ("once", "print one plain-text snapshot and exit")
      ("json", "print one JSON snapshot and exit")
      ("refresh-ms", po::value(&cfg.refresh_ms)->default_value(200), "live refresh period");
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-monitor", argc, argv, opts, nullptr, &vm)) return *rc;
  if (vm.count("once") && vm.count("json")) {
    std::fprintf(stderr, "slate-monitor: --once and --json exclude each other\n");
    return 2;
  }
  if (cfg.refresh_ms < 20) {
    std::fprintf(stderr, "slate-monitor: --refresh-ms must be at least 20\n");
    return 2;
  }
  (void)slate::SetUpLogging("slate-monitor", "error");
  if (vm.count("once")) cfg.mode = slate::monitor::MonitorMode::kOnce;
  if (vm.count("json")) cfg.mode = slate::monitor::MonitorMode::kJson;
  return slate::monitor::MonitorApp(std::move(cfg)).Run();
}
