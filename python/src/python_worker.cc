#include "python_worker.h"

#include <signal.h>

#include "error.h"
#include "json_convert.h"
#include "slate/process_setup.h"
#include "worker_app.h"

namespace slate::python {

namespace py = pybind11;

Task::Task(const worker::TaskInput& in, worker::RunControl* control)
    : id_(in.task_id), attempt_(in.attempt), request_id_(in.request_id),
      timeout_ms_(in.timeout_ms), plan_(in.plan), control_(control) {
  payload_ = ToPython(in.payload);
  input_ = in.plan ? ToPython(in.envelope) : payload_;
  resume_ = ToPython(in.resume);
}

void Task::Checkpoint(py::handle state) {
  if (control_ == nullptr)
    throw py::value_error("task " + std::to_string(id_) +
                          " has returned: its checkpoints are over");
  const nlohmann::json j = FromPython(state);
  Status s;
  {
    py::gil_scoped_release unlocked;
    s = control_->SaveCheckpoint(j);
  }
  if (!s.ok()) throw Error("checkpoint refused: " + s.message());
}

bool Task::cancelled() const { return control_ != nullptr && control_->cancel.load(); }

PythonHandler::~PythonHandler() {
  py::gil_scoped_acquire locked;
  fn_ = py::object();
}

worker::Outcome PythonHandler::Run(const worker::TaskInput& in, worker::RunControl& control) {
  py::gil_scoped_acquire locked;
  auto task = std::make_shared<Task>(in, &control);
  try {
    py::object result = fn_(task);
    task->End();
    return worker::Outcome::Success(FromPython(result));
  } catch (py::error_already_set& e) {
    task->End();
    const py::object lines = py::module_::import("traceback")
                                 .attr("format_exception")(e.type(), e.value(), e.trace());
    return worker::Outcome::Failure(py::str("").attr("join")(lines).cast<std::string>());
  } catch (const std::exception& e) {  // a result that is no payload
    task->End();
    return worker::Outcome::Failure(std::string("the result is not a payload: ") + e.what());
  }
}

namespace {

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop.store(true); }

// The stop signals set g_stop for the worker's life, then get their former
// handlers back (Python's own SIGINT among them).
class StopSignals {
 public:
  StopSignals() {
    g_stop = false;
    struct sigaction sa {};
    sa.sa_handler = OnStop;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~StopSignals() {
    for (size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }

 private:
  static constexpr int kSignals[3] = {SIGTERM, SIGINT, SIGHUP};
  struct sigaction old_[3] {};
};

}  // namespace

void Serve(py::object fn, const ServeOptions& o) {
  if (!PyCallable_Check(fn.ptr())) throw py::type_error("serve: fn must be callable");
  static bool logging = false;  // one logger per process
  if (!logging) {
    if (Status s = SetUpLogging("slate-python-worker", o.log_level); !s.ok())
      throw py::value_error(s.message());
    logging = true;
  }
  worker::WorkerConfig cfg;
  cfg.pool = o.pool;
  cfg.name = o.name;
  cfg.capabilities = o.capabilities;
  cfg.team = o.team;
  cfg.handler.name = "python";
  cfg.handler.default_timeout_ms = o.timeout_ms;
  cfg.lease_ms = o.lease_ms;
  cfg.heartbeat_ms = o.heartbeat_ms;
  cfg.drain_ms = o.drain_ms;
  int rc = 0;
  {
    StopSignals signals;
    worker::WorkerApp app(std::move(cfg), std::make_unique<PythonHandler>(std::move(fn)),
                          &g_stop);
    py::gil_scoped_release unlocked;
    rc = app.Run();
  }
  if (rc != 0)
    throw Error("the worker stopped with status " + std::to_string(rc) +
                             "; its log on standard error says why");
}

}  // namespace slate::python
