// The command-line options that shape a request (PlanOptions), shared by
// slate-supervisor and slate-launch run and submit, so that each names and
// checks them alike.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>

#include "request/request_store.h"

namespace slate::supervisor {

struct PlanFlags {
  PlanOptions options;
  std::string on_exhausted = "dead-letter";
};

// --context-bytes, --max-iterations, --on-exhausted. (--validate differs:
// a switch for who submits, the command for who starts workers.)
void AddPlanFlags(boost::program_options::options_description& opts, PlanFlags* f);

// Checks the values once parsed; nullopt, or the exit status (2) after a
// message naming the option on stderr.
std::optional<int> FinishPlanFlags(const char* program,
                                   const boost::program_options::variables_map& vm,
                                   PlanFlags* f);

}  // namespace slate::supervisor
