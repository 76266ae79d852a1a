// slate.serve: a Python function as a slate worker's handler. The worker
// is slate-worker's own loop (worker/worker_app.h): it registers, beats,
// claims its tasks, renews leases, stops a task taken back at once, and
// completes or fails each under its claim's epoch. Only the handler is
// Python: it gets a Task, returns the result or raises.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "handler.h"

namespace slate::python {

// A task as the Python function sees it, valid while the function runs.
class Task {
 public:
  Task(const worker::TaskInput& in, worker::RunControl* control);

  uint64_t id() const { return id_; }
  uint32_t attempt() const { return attempt_; }
  const std::string& request_id() const { return request_id_; }
  uint32_t timeout_ms() const { return timeout_ms_; }
  // The line's payload, or a plan step's whole envelope (its "payload",
  // "context", "feedback" and "resume"), as --exec would get on stdin.
  pybind11::object input() const { return input_; }
  pybind11::object payload() const { return payload_; }
  bool plan() const { return plan_; }
  // The last checkpoint an earlier attempt saved; None when none did.
  pybind11::object resume() const { return resume_; }
  // Saves state as this task's checkpoint (replacing the one before), for
  // the next attempt's resume. Raises slate.Error when the pool refuses
  // it (the task was taken back and claimed again, or has ended).
  void Checkpoint(pybind11::handle state);
  // True once the task must be given up (preempted, cancelled, past its
  // timeout, the worker stopping): save a checkpoint and return soon.
  bool cancelled() const;
  // The function returned: the task's control goes with its run.
  void End() { control_ = nullptr; }

 private:
  // The input's scalars; its JSON is converted once, into the objects.
  uint64_t id_;
  uint32_t attempt_;
  std::string request_id_;
  uint32_t timeout_ms_;
  bool plan_;
  worker::RunControl* control_;  // null once the run is over
  pybind11::object input_, payload_, resume_;
};

class PythonHandler : public worker::Handler {
 public:
  explicit PythonHandler(pybind11::object fn) : fn_(std::move(fn)) {}
  ~PythonHandler() override;
  // Calls fn(task) holding the GIL: its return value is the result, an
  // exception a failed attempt with the traceback as its error.
  worker::Outcome Run(const worker::TaskInput& in, worker::RunControl& control) override;

 private:
  pybind11::object fn_;
};

struct ServeOptions {
  std::string pool;
  std::string name;
  std::vector<std::string> capabilities;
  std::string team;  // a supervision tree's team ("" for the top level)
  uint32_t lease_ms = 30000;
  uint32_t heartbeat_ms = 200;
  uint32_t drain_ms = 2000;
  uint32_t timeout_ms = 0;
  std::string log_level = "info";
};

// Runs fn as a worker until SIGTERM, SIGINT or SIGHUP (the signals' former
// handlers are back on return). REQUIRES: the GIL held; it is released
// while the worker waits. Raises slate.Error when the worker cannot start
// or the pool fails it.
void Serve(pybind11::object fn, const ServeOptions& options);

}  // namespace slate::python
