// The slate Python module (slate._slate; the package slate re-exports it).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "client.h"
#include "error.h"
#include "pool_binding.h"
#include "python_worker.h"

namespace py = pybind11;
using namespace pybind11::literals;

PYBIND11_MODULE(_slate, m) {
  m.doc() = "slate: a shared-memory blackboard for supervisor/worker process groups";
  py::register_exception<slate::python::Error>(m, "Error");
  slate::python::BindPool(m);

  py::class_<slate::python::Task, std::shared_ptr<slate::python::Task>>(
      m, "Task", "A task as a worker's function sees it while it runs.")
      .def_property_readonly("id", &slate::python::Task::id, "the task's id in the pool")
      .def_property_readonly("attempt", &slate::python::Task::attempt,
                             "1 on the first run, then one more each time it runs again")
      .def_property_readonly("request_id", &slate::python::Task::request_id,
                             "the request it belongs to ('' for none)")
      .def_property_readonly("payload", &slate::python::Task::payload, "the line's payload")
      .def_property_readonly("input", &slate::python::Task::input,
                             "what --exec would get on stdin: the payload, or a plan "
                             "step's envelope (payload, context, feedback, resume)")
      .def_property_readonly("plan", &slate::python::Task::plan, "a plan step")
      .def_property_readonly("resume", &slate::python::Task::resume,
                             "the last checkpoint an earlier attempt saved, else None")
      .def_property_readonly("timeout_ms", &slate::python::Task::timeout_ms,
                             "its line's timeout (0: none)")
      .def_property_readonly("cancelled", &slate::python::Task::cancelled,
                             "True once the task must be given up (preempted, cancelled, "
                             "past its timeout, the worker stopping)")
      .def("checkpoint", &slate::python::Task::Checkpoint, "state"_a,
           "Saves state (a payload) as the task's checkpoint, replacing the one before; "
           "the next attempt finds it in resume. Raises slate.Error when the pool refuses "
           "it: the task was taken back and claimed again, or has ended.");

  static const char* kSubmitDoc =
      R"doc(Submits the request in file `path` to the group running on the pool, as
`slate-launch submit` does: its lines run beside the group's other
requests, by priority (-128..127, added to each line's).

With wait (the default), returns the result document (a dict: "request",
"tasks" in input order, "summary") once the request ends; a document
larger than the pool's payload limit comes back as its request and
summary. Without wait, returns the request's id. Raises slate.Error when
the file is no request, no supervisor leads the pool, the group stops,
or timeout_s passes (the request goes on).)doc";
  static const char* kResultsDoc =
      R"doc(Iterates over a request's task items as they end: each a dict with
"index", "id", "task", "status", and "result" or "error", as in the result
document. A task done is given as its result lands (for plans, whose
lines may run again, at the end); every other item, and any not given
yet, comes in input order once the request ends; then the iteration
stops. Each item is given once. Raises slate.Error past timeout_s (0: no
limit) or when the group stops.)doc";
  static const std::string kOneCallSubmitDoc =
      std::string(kSubmitDoc) + "\n\nA one-call client: slate.Client(pool).submit(...).";
  auto options = [](const std::string& path, int priority, bool wait, double timeout_s,
                    const std::string& split) {
    slate::python::SubmitOptions o;
    o.path = path;
    o.priority = priority;
    o.wait = wait;
    o.timeout_s = timeout_s;
    o.split = split;
    return o;
  };

  py::class_<slate::python::ResultStream>(
      m, "ResultStream", "A request's task items as they end (Client.results).")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &slate::python::ResultStream::Next);

  py::class_<slate::python::Client>(
      m, "Client",
      "A client of the group running on a pool: it stays attached, so each submit costs "
      "only its request. Client(pool) raises slate.Error when the pool does not exist.")
      .def(py::init<const std::string&>(), "pool"_a)
      .def_property_readonly("pool", &slate::python::Client::name)
      .def(
          "submit",
          [options](slate::python::Client& c, const std::string& path, int priority, bool wait,
                    double timeout_s, const std::string& split) {
            return c.Submit(options(path, priority, wait, timeout_s, split));
          },
          "path"_a, "priority"_a = 0, "wait"_a = true, "timeout_s"_a = 0.0, "split"_a = "jsonl",
          kSubmitDoc)
      .def("results", &slate::python::Client::Results, "request_id"_a, "timeout_s"_a = 0.0,
           kResultsDoc)
      .def("close", &slate::python::Client::Close, "Detaches from the pool.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](slate::python::Client& c, py::args) { c.Close(); });

  m.def(
      "submit",
      [options](const std::string& pool, const std::string& path, int priority, bool wait,
                double timeout_s, const std::string& split) {
        return slate::python::Client(pool).Submit(options(path, priority, wait, timeout_s, split));
      },
      "pool"_a, "path"_a, "priority"_a = 0, "wait"_a = true, "timeout_s"_a = 0.0,
      "split"_a = "jsonl",
      kOneCallSubmitDoc.c_str());
  m.def(
      "results",
      [](const std::string& pool, const std::string& request_id, double timeout_s) {
        return slate::python::Client(pool).Results(request_id, timeout_s);
      },
      "pool"_a, "request_id"_a, "timeout_s"_a = 0.0, kResultsDoc);

  m.def(
      "serve",
      [](py::object fn, const std::string& pool, const std::string& name,
         std::vector<std::string> capabilities, uint32_t lease_ms, uint32_t heartbeat_ms,
         uint32_t drain_ms, uint32_t timeout_ms, const std::string& log_level,
         const std::string& team) {
        slate::python::ServeOptions o;
        o.pool = pool;
        o.name = name;
        o.capabilities = std::move(capabilities);
        o.team = team;
        o.lease_ms = lease_ms;
        o.heartbeat_ms = heartbeat_ms;
        o.drain_ms = drain_ms;
        o.timeout_ms = timeout_ms;
        o.log_level = log_level;
        slate::python::Serve(std::move(fn), o);
      },
      "fn"_a, "pool"_a, "name"_a = "", "capabilities"_a = std::vector<std::string>{},
      "lease_ms"_a = 30000, "heartbeat_ms"_a = 200, "drain_ms"_a = 2000, "timeout_ms"_a = 0,
      "log_level"_a = "info", "team"_a = "",
      R"doc(Runs fn as a slate worker of the pool's group until SIGTERM, SIGINT or SIGHUP.

fn(task) gets a slate.Task and returns the task's result (a payload: None,
bool, int, float, str, list, tuple, dict with str keys); an exception is a
failed attempt whose error is its traceback. The worker registers as
`name` (default worker-<pid>; a dead worker's name is taken over), with
`capabilities`, beats every heartbeat_ms, holds each claim for lease_ms
(renewed while fn runs), and gives a task timeout_ms when its line has no
timeout (0: none). In a supervision tree, `team` names the team it works
in: only that team's supervisor hands it work. On a stop signal the task in hand may finish within
drain_ms, else it goes back to the supervisor; the worker leaves the pool
and serve returns. Raises slate.Error when the worker cannot start or the
pool fails it.)doc");
}
