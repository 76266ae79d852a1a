// slate-coordinator: watches the pool and reports; changes no task.
//
// Every interval, for each active request, it writes a progress entry
// (segment "progress", importance 0.5: counts by state, throughput, ETA) and
// erases its previous one. It flags, in segment "conflicts" (importance 0.9):
//  - duplicate assignments: each completion, failure or renewal the pool
//    refused for a stale epoch (a second result for a task included), naming
//    the task, the refused worker, the holder and the epochs;
//  - dead workers (process gone) and hung ones (heartbeat stale);
//  - expired leases on running tasks;
//  - every attempt lost with its worker (from the pool's "lost" records),
//    which catches deaths too short-lived for the two checks above.
// Each condition is flagged once. The supervisor reassigns the work.
#pragma once

#include <cstdint>
#include <string>

namespace slate::coordinator {

struct CoordinatorConfig {
  std::string pool;
  uint32_t interval_ms = 1000;
  uint32_t hung_after_ms = 5000;
  uint32_t heartbeat_ms = 200;
  std::string metrics;  // HOST:PORT or PORT to serve /metrics; empty: off
};

class CoordinatorApp {
 public:
  explicit CoordinatorApp(CoordinatorConfig config) : config_(std::move(config)) {}
  int Run();

 private:
  CoordinatorConfig config_;
};

}  // namespace slate::coordinator
