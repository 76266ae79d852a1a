// What a worker runs for each task. A handler gets the task's payload as
// JSON and returns a JSON result or an error text; it never throws.
// Handlers run in the worker process (built-ins) or in a child process
// group (exec). The worker and the handler share a RunControl while it runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
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
  // The last checkpoint an earlier attempt saved (null: none). Plan
  // envelopes carry it as "resume"; exec commands get it in $SLATE_RESUME.
  nlohmann::json resume;
};

// The worker's side of a running task. The worker sets `cancel` when the
// task must be given up (preempted, cancelled, timed out, the worker
// stopping) and, first, `grace_ms`: how long an exec command has between
// SIGTERM and SIGKILL to save a checkpoint and exit. The handler saves
// checkpoints through `checkpoint` (unset: they are not kept).
struct RunControl {
  std::atomic<bool> cancel{false};
  std::atomic<uint32_t> grace_ms{2000};
  std::function<Status(const nlohmann::json& state)> checkpoint;
  Status SaveCheckpoint(const nlohmann::json& state) const {
    return checkpoint ? checkpoint(state) : Status::Ok();
  }
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
  virtual Outcome Run(const TaskInput& input, RunControl& control) = 0;
  // Called once, before the worker joins its pool: a handler that keeps a
  // command alive starts it here, so its start-up overlaps the group's
  // instead of delaying the first task. A failure here is not final: the
  // first task tries again and fails with the reason.
  virtual void Prepare() {}
};

struct HandlerOptions {
  std::string name;             // echo, wordcount, sha256, sleep, fail, exec, serve
  std::string exec_command;     // exec and serve: the command line
  bool exec_shell = false;      // exec: run through /bin/sh -c
  size_t max_output_bytes = 512 * 1024;
  uint32_t default_timeout_ms = 0;
  uint32_t stop_grace_ms = 2000;     // exec: SIGTERM to SIGKILL when cancelled
  uint32_t preempt_grace_ms = 1000;  // the same when preempted
};

// The handler for these options, or kInvalidArgument naming what is wrong.
Result<std::unique_ptr<Handler>> MakeHandler(const HandlerOptions& options);

// The names MakeHandler accepts, for --help and error messages.
const char* HandlerNames();

}  // namespace slate::worker
