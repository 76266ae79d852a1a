// Whole groups started with slate-launch, as a user starts them: the main
// job's wall time split into phases, and what an idle group costs.
#pragma once

#include <string>

#include "bench_report.h"

namespace slate::bench {

struct JobOptions {
  std::string launcher;  // path to slate-launch
  std::string input;     // the sample request: a directory of documents
  std::string serve;     // the agent command each worker keeps alive (the main job's way)
  std::string exec;      // else, when set: the agent command each task runs
  int workers = 4;
};

// Runs `slate-launch run --split files` over the sample and splits its
// wall time: start-up (launch to the first task posted), work (first post
// to the last result written) and shut-down (last result to exit).
JobShape MeasureJob(const JobOptions& o);

// Starts a group of `workers` echo workers with `slate-launch start`,
// lets it settle, then sums the CPU time of every member and the keeper
// over `seconds`.
IdleFigures MeasureIdle(const std::string& launcher, int workers, double seconds);

}  // namespace slate::bench
