// slate-dashboard: a web page over a running group, on loopback.
#include <boost/program_options.hpp>
#include <iostream>

#include "dashboard_app.h"
#include "slate/cli.h"
#include "slate/process_setup.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  slate::dashboard::DashboardConfig cfg;
  std::string log_level;
  po::options_description opts(
      "Usage: slate-dashboard [options]\n\n"
      "Serves a web page over a running group's pool: requests with their\n"
      "progress, throughput, workers, tasks (filtered, sorted, a page at a\n"
      "time), each task's history, dead letters, conflicts and the tasks held\n"
      "for review, kept live. Reads never take the pool's lock. Cancelling\n"
      "and answering reviews need the token printed at start (also kept in\n"
      "--token-file). slate-launch start --dashboard starts one with the group.\n\n"
      "Options");
  opts.add_options()
      ("help,h", "show this help")
      ("pool", po::value(&cfg.pool)->default_value(slate::DefaultPoolName()),
       "pool name (default: $SLATE_POOL, else slate)")
      ("listen", po::value(&cfg.listen)->default_value("127.0.0.1:0"),
       "HOST:PORT to serve on (PORT alone: 127.0.0.1; port 0 picks a free one)")
      ("token-file", po::value(&cfg.token_file),
       "keep the token here (mode 0600): read if it exists, else written")
      ("state-file", po::value(&cfg.state_file),
       "the keeper's group.json, for each member's restarts (slate-launch passes it)")
      ("url-file", po::value(&cfg.url_file), "write the page's address here once serving")
      ("refresh-ms", po::value(&cfg.refresh_ms)->default_value(1000),
       "how often the page is updated")
      ("log-level", po::value(&log_level)->default_value("info"),
       "trace, debug, info, warn, error, off");
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-dashboard", argc, argv, opts, nullptr, &vm))
    return *rc;
  if (auto rc = slate::CheckRanges("slate-dashboard", vm, {{"refresh-ms", 100, 60'000}}))
    return *rc;
  if (auto s = slate::SetUpLogging("slate-dashboard", log_level); !s.ok()) {
    std::cerr << "slate-dashboard: " << s.message() << "\n";
    return 2;
  }
  slate::DieWithParent();
  return slate::dashboard::DashboardApp(std::move(cfg)).Run();
}
