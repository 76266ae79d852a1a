// slate-dump: read-only inspection of a pool.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

#include "dump_commands.h"
#include "slate/cli.h"
#include "slate/pool.h"
#include "slate/process_setup.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string pool_name, format, log_level, order;
  slate::dump::ListOptions list;
  po::options_description opts(
      "Usage: slate-dump [options]\n\n"
      "Inspects a pool read-only: safe on a live group, and on a pool whose\n"
      "processes all died. Lists entries (the default), or --stats, or --check.\n"
      "Exit status: 0 ok, 1 violations found or the pool cannot be read, 2 usage.\n\n"
      "Options");
  opts.add_options()
      ("help,h", "show this help")
      ("pool", po::value(&pool_name)->default_value(slate::DefaultPoolName()),
       "pool name (default: $SLATE_POOL, else slate)")
      ("stats", "capacity, segments, tasks by state, agents with liveness")
      ("check", "run the invariant checker; exit 1 listing violations")
      ("segment,s", po::value(&list.query.segments)->composing(), "only this segment (repeatable)")
      ("tag,t", po::value(&list.query.all_tags)->composing(), "must carry this tag (repeatable: all)")
      ("any-tag", po::value(&list.query.any_tags)->composing(), "must carry one of these (repeatable)")
      ("min-importance", po::value(&list.query.min_importance)->default_value(0.0f), "in [0, 1]")
      ("author", po::value(&list.query.author), "only entries by this author")
      ("since", po::value(&list.query.after_id)->default_value(0), "only ids greater than this")
      ("limit,n", po::value(&list.query.limit)->default_value(100), "at most this many (0: all)")
      ("order", po::value(&order)->default_value("id"), "id, or importance (then newest)")
      ("format,f", po::value(&format)->default_value("table"),
       "table, or jsonl (one JSON object a line, payloads decoded)")
      ("follow", "keep printing new matching entries until the pool is removed or Ctrl-C")
      ("log-level", po::value(&log_level)->default_value("warn"), "trace ... off");
  po::variables_map vm;
  if (auto rc = slate::ParseCommandLine("slate-dump", argc, argv, opts, nullptr, &vm)) return *rc;
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "slate-dump: %s (see --help)\n", m.c_str());
    return 2;
  };
  if (format != "table" && format != "jsonl") return usage("--format must be table or jsonl");
  if (order != "id" && order != "importance") return usage("--order must be id or importance");
  if (list.query.min_importance < 0 || list.query.min_importance > 1)
    return usage("--min-importance must be in [0, 1]");
  if (vm.count("stats") + vm.count("check") > 1) return usage("--stats and --check exclude each other");
  if (auto s = slate::SetUpLogging("slate-dump", log_level); !s.ok()) return usage(s.message());
  list.format = format == "jsonl" ? slate::dump::Format::kJsonLines : slate::dump::Format::kTable;
  list.query.order = order == "id" ? slate::QueryOrder::kById
                                   : slate::QueryOrder::kByImportanceThenRecency;
  list.follow = vm.count("follow") > 0;
  std::unique_ptr<slate::dump::DumpCommand> command;
  if (vm.count("stats")) command = std::make_unique<slate::dump::StatsCommand>(list.format);
  else if (vm.count("check")) command = std::make_unique<slate::dump::CheckCommand>();
  else command = std::make_unique<slate::dump::ListCommand>(list);
  auto pool = slate::Pool::Open(pool_name, slate::OpenMode::kReadOnly);
  if (!pool.ok()) {
    std::fprintf(stderr, "slate-dump: %s\n", pool.status().message().c_str());
    return 1;
  }
  return command->Run(**pool);
}
