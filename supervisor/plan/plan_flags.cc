#include "plan/plan_flags.h"

#include <iostream>

#include "slate/cli.h"

namespace slate::supervisor {

namespace po = boost::program_options;

void AddPlanFlags(po::options_description& opts, PlanFlags* f) {
  opts.add_options()
      ("context-bytes", po::value(&f->options.context_bytes)->default_value(1u << 20),
       "plans: bytes of dependencies' results a task's context holds at most; past it "
       "the least important are left out")
      ("max-iterations", po::value(&f->options.max_iterations)->default_value(3),
       "validated plans: runs of a line, each with the feedback of the ones before, "
       "before it is exhausted")
      ("on-exhausted", po::value(&f->on_exhausted)->default_value("dead-letter"),
       "when a task's retries or iterations run out: dead-letter (its dependents are "
       "skipped), review (held for a person: slate-launch review) or fail-request (the "
       "request stops); a line's \"on_exhausted\" overrides it");
}

std::optional<int> FinishPlanFlags(const char* program, const po::variables_map& vm,
                                   PlanFlags* f) {
  if (auto rc = CheckRanges(program, vm, {{"context-bytes", 0, 1ull << 30},
                                          {"max-iterations", 1, 100}}))
    return rc;
  auto e = ParseOnExhausted(f->on_exhausted);
  if (!e.ok()) {
    std::cerr << program << ": --on-exhausted: " << e.status().message() << "\n";
    return 2;
  }
  f->options.on_exhausted = *e;
  return std::nullopt;
}

}  // namespace slate::supervisor
