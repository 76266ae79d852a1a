// slate-launch run: one request end to end. Creates a fresh pool, starts
// the coordinator, N workers and the supervisor as separate processes,
// waits for the supervisor, relays its result, stops the group and removes
// the pool (unless --keep). Ctrl-C or SIGTERM stops everything and leaves
// no process and no pool behind.
#pragma once

#include <string>
#include <vector>

namespace slate::launch {

struct RunOptions {
  std::string pool;
  std::string input;
  std::string split = "jsonl";
  std::string policy = "round-robin";
  std::string handler = "echo";
  std::string exec;
  bool shell = false;
  std::vector<std::string> capabilities;  // given to every worker
  std::vector<std::string> worker_specs;  // "N:cap1,cap2" worker groups
  uint32_t workers = 4;
  uint32_t max_retries = 2;
  uint32_t max_pending = 2;
  uint32_t slots = 0;  // 0: sized from the request
  uint32_t no_worker_timeout_ms = 30000;
  std::string output;
  std::string log_level = "warn";
  bool keep = false;
};

// Exit status: the supervisor's (0, 3), 2 for bad input or usage (nothing
// started), 1 when the group fails, 130 when interrupted.
int RunGroup(const RunOptions& options);

}  // namespace slate::launch
