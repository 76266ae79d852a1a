// What a worker runs for each task. A handler gets the task's payload as
// JSON and returns a JSON result or an error text; it never throws.
// Handlers run in the worker process (built-ins) or in a child process
// group (exec). `cancel` is set when the worker must give the task up.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "slate/status.h"

namespace slate::worker {

struct TaskInput {
  uint64_t task_id = 0;
  uint32_t attempt = 0;
  std::string request_id;
  nlohmann::json payload;   // the line's payload
  uint32_t timeout_ms = 0;  // 0: no limit
  // A task of a plan (slate/plan_task.h): the whole envelope, with the
  // dependencies' results in "context" and earlier rounds in "feedback".
  // An exec handler writes the envelope to the command's stdin instead of
  // the bare payload.
  bool plan = false;
  nlohmann::json envelope;
  uint32_t iteration = 1;
};

struct Outcome {
  bool ok = false;
  nlohmann::json result;  // when ok
  std::string error;      // when not ok
  // The result's importance (in a dependent's context budget); unset: the
  // importance of the task's line.
  std::optional<float> importance;
  static Outcome Success(nlohmann::json r) { return {true, std::move(r), "", std::nullopt}; }
  static Outcome Failure(std::string e) { return {false, nullptr, std::move(e), std::nullopt}; }
};

class Handler {
 public:
  virtual ~Handler() = default;
  virtual Outcome Run(const TaskInput& input, const std::atomic<bool>& cancel) = 0;
};

struct HandlerOptions {
  std::string name;             // echo, wordcount, sha256, sleep, fail, exec
  std::string exec_command;     // exec: the command line
  bool exec_shell = false;      // exec: run through /bin/sh -c
  size_t max_output_bytes = 512 * 1024;
  uint32_t default_timeout_ms = 0;
  uint32_t stop_grace_ms = 2000;  // exec: SIGTERM to SIGKILL when cancelled
};

// The handler for these options, or kInvalidArgument naming what is wrong.
Result<std::unique_ptr<Handler>> MakeHandler(const HandlerOptions& options);

// The names MakeHandler accepts, for --help and error messages.
const char* HandlerNames();

}  // namespace slate::worker
