// slate-worker: registers, heartbeats, claims its tasks without polling,
// runs its handler, and completes or fails each task under its claim's epoch.
//
// Threads: the main thread claims and runs tasks. The heartbeat thread
// heartbeats, renews the current lease when half of it is gone, and cancels
// a task past its timeout. SIGTERM/SIGINT: the current task may finish within
// drain_ms; past that it is cancelled and released back to the supervisor
// (pending again, not failed). The worker deregisters (its queued tasks go
// back to the supervisor) and exits 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "handler.h"
#include "slate/agent.h"

namespace slate::worker {

struct WorkerConfig {
  std::string pool;
  std::string name;  // empty: worker-<pid>
  std::vector<std::string> capabilities;
  // Its team in a supervision tree (slate/agent.h): only that team's
  // supervisor hands it work. "" for the top level.
  std::string team;
  AgentRole role = AgentRole::kWorker;  // kSubSupervisor: a sub-supervisor's member
  HandlerOptions handler;
  // A command that validates plan results (slate/plan_task.h): the worker
  // then has the capability "validate" and runs it for validation tasks.
  std::string validate_command;
  uint32_t lease_ms = 30000;
  uint32_t heartbeat_ms = 200;
  uint32_t drain_ms = 2000;
};

class WorkerApp {
 public:
  explicit WorkerApp(WorkerConfig config) : config_(std::move(config)) {}
  // A worker whose handler is given (config.handler.name is then only its
  // name in logs), stopped when *stop is set instead of by signals: an
  // embedding, such as the Python package's slate.serve, owns both.
  WorkerApp(WorkerConfig config, std::unique_ptr<Handler> handler,
            const std::atomic<bool>* stop)
      : config_(std::move(config)), handler_(std::move(handler)), stop_(stop) {}
  // Exit status: 0 after a clean stop, 1 when the pool fails us, 2 for a
  // bad configuration.
  int Run();

 private:
  WorkerConfig config_;
  std::unique_ptr<Handler> handler_;   // null: made from config_.handler
  const std::atomic<bool>* stop_ = nullptr;  // null: SIGTERM, SIGINT, SIGHUP
};

}  // namespace slate::worker
