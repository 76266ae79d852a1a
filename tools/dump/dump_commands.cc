#include "dump_commands.h"


#include <chrono>
#include <cstdio>
#include <iostream>

#include "slate/dump.h"
#include "slate/json_payload.h"
#include "slate/process_setup.h"

namespace slate::dump {
namespace {


int Fail(const Status& s) {
  std::fprintf(stderr, "slate-dump: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int StatsCommand::Run(Pool& pool) {
  auto stats = pool.Stats();
  if (!stats.ok()) return Fail(stats.status());
  auto agents = pool.ListAgents(std::chrono::seconds(5));
  if (!agents.ok()) return Fail(agents.status());
  if (format_ == Format::kJsonLines)
    std::cout << JsonText(StatsToJson(*stats, *agents)) << "\n";
  else
    std::cout << FormatStats(*stats, *agents);
  return 0;
}

int CheckCommand::Run(Pool& pool) {
  const auto problems = pool.Check();
  if (problems.empty()) {
    auto stats = pool.Stats();
    std::printf("pool '%s': check passed (%llu entries)\n", pool.name().c_str(),
                stats.ok() ? static_cast<unsigned long long>(stats->entries) : 0ull);
    return 0;
  }
  for (const auto& p : problems) std::printf("violation: %s\n", p.c_str());
  std::printf("pool '%s': %zu violation(s)\n", pool.name().c_str(), problems.size());
  return 1;
}

void ListCommand::Print(const std::vector<Entry>& entries) const {
  for (const Entry& e : entries) {
    if (options_.format == Format::kJsonLines)
      std::cout << JsonText(EntryToJson(e)) << "\n";
    else
      std::cout << EntryTableRow(e) << "\n";
  }
  std::cout.flush();
}

int ListCommand::Run(Pool& pool) {
  Query q = options_.query;
  auto first = pool.Find(q);
  if (!first.ok()) return Fail(first.status());
  if (options_.format == Format::kTable) std::cout << EntryTableHeader() << "\n";
  Print(*first);
  if (q.limit != 0 && first->size() == q.limit && !options_.follow) {
    // Say so when the limit cut the list: a count of every match.
    Query all = q;
    all.limit = 0;
    all.with_payload = false;
    if (auto every = pool.Find(all); every.ok() && every->size() > first->size())
      std::fprintf(stderr, "slate-dump: showing %zu of %zu entries; -n 0 for all\n",
                   first->size(), every->size());
  }
  if (!options_.follow) return 0;
  // Follow from the newest id seen (or the pool's newest), in id order.
  std::atomic<bool>& stop = InstallStopSignals();
  auto stats = pool.Stats();
  if (!stats.ok()) return Fail(stats.status());
  q.after_id = first->empty() ? stats->next_id - 1 : first->back().id;
  q.order = QueryOrder::kById;
  q.limit = 0;
  while (!stop.load()) {
    if (!Pool::Exists(pool.name())) {
      std::fprintf(stderr, "slate-dump: pool '%s' was removed\n", pool.name().c_str());
      return 0;
    }
    auto fresh = pool.Wait(q, std::chrono::milliseconds(250));
    if (!fresh.ok()) return Fail(fresh.status());
    if (fresh->empty()) continue;
    Print(*fresh);
    q.after_id = fresh->back().id;
  }
  return 0;
}

}  // namespace slate::dump
