// What slate-bench measured, and its two renderings: a table for people and
// one JSON object for scripts (docs/PERFORMANCE.md lists the fields).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/internal/lock_profile.h"

namespace slate::bench {

// Where the pool lock went, per task, over all processes of a worker
// count's rounds (--lock-profile).
struct LockFigures {
  double held_fraction = 0;  // of the rounds' wall time
  double hold_us_per_task[internal::kLockUses] = {};  // by LockUse
  double tasks_per_hold[internal::kLockUses] = {};    // by LockUse; 0: no holds
  double wait_us_per_task = 0;  // all uses, all processes
};

struct ThroughputRow {
  int workers = 0;
  uint64_t tasks = 0;            // per round
  int rounds = 0;
  double tasks_per_s = 0;        // median over rounds
  double baseline_tasks_per_s = 0;
  double futex_rings_tasks_per_s = 0;  // median; per-worker lock-free rings
  std::optional<LockFigures> lock;
  std::optional<double> python_pool_tasks_per_s;  // --peers, when python3 ran
};

struct LatencyFigures {
  uint64_t samples = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  uint64_t baseline_samples = 0;
  double baseline_p50_us = 0, baseline_p99_us = 0, baseline_p999_us = 0;
  // The distribution, for plots: {quantile, slate us, baseline us}.
  std::vector<std::array<double, 3>> cdf;
};

// Per-operation cost with `small` versus `large` entries resident.
struct ScalingFigures {
  uint64_t small = 0, large = 0;
  double claim_us_small = 0, claim_us_large = 0;
  double query_us_small = 0, query_us_large = 0;
};

// Bytes of region one entry takes beyond its payload, by kind.
struct MemoryFigures {
  uint32_t payload_bytes = 0;
  double slot_fixed_bytes = 0;  // slot, id index and heap share per slot
  double entry_overhead = 0, task_overhead = 0, result_overhead = 0;
};

struct JobShape {
  std::string command;
  int exit_code = 0;
  uint64_t tasks = 0;
  double startup_ms = 0, work_ms = 0, shutdown_ms = 0, total_ms = 0;
};

struct IdleFigures {
  int processes = 0;
  double seconds = 0;
  double cpu_percent = 0;  // of one core, all processes together
  double resolution_percent = 0;  // one clock tick over the window
};

struct Report {
  uint64_t seed = 0;
  double seconds_budget = 0;
  std::string assign = "tasks";  // throughput: post batches spread by task or by block
  double seconds_used = 0;
  std::vector<ThroughputRow> throughput;
  std::optional<LatencyFigures> latency;
  std::optional<ScalingFigures> scaling;
  std::optional<MemoryFigures> memory;
  std::optional<JobShape> job;
  std::optional<IdleFigures> idle;
  std::vector<std::string> notes;  // workloads skipped, and why
};

// Per task and as a share of `seconds`, over `tasks` tasks.
LockFigures LockFiguresOf(const internal::LockProfile& p, double seconds, uint64_t tasks);

nlohmann::ordered_json ToJson(const Report& r);
std::string ToTable(const Report& r);

}  // namespace slate::bench
