// The command line of one worker (slate-worker, or slate-python-worker),
// as run and start launch it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slate/status.h"

namespace slate::launch {

struct WorkerFlags {
  std::string handler = "echo";  // used when exec is empty
  std::string exec;
  std::string serve;  // a command kept alive across tasks (slate-worker --serve)
  bool shell = false;
  std::string validate;  // the validator command; empty: none
  uint32_t preempt_grace_ms = 1000;
  // MODULE:FUNCTION: the workers are slate-python-worker serving it.
  std::string python;
};

// The handler and the validator can be made: checked before anything starts.
Status CheckWorkerFlags(const WorkerFlags& f);

// --python-worker: its function loads (slate-python-worker --check, from
// bin); otherwise every worker would crash at start until the group stops.
Status CheckPythonWorker(const std::string& bin, const WorkerFlags& f);

std::vector<std::string> WorkerArgv(const std::string& bin, const std::string& name,
                                    const WorkerFlags& f, const std::vector<std::string>& caps);

}  // namespace slate::launch
