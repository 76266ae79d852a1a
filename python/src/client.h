// slate.Client: requests to a running group, as `slate-launch submit`
// makes them (the request record the service supervisor picks up), and
// their results. A client keeps its pool attached, so a submit costs what
// the request costs, not the mapping of the pool (slate.submit and
// slate.results are one-call clients).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "slate/pool.h"

namespace slate::python {

struct SubmitOptions {
  std::string path;           // the request file; the supervisor reads it
  std::string split = "jsonl";
  int priority = 0;           // -128..127, added to each line's
  bool wait = true;
  double timeout_s = 0;       // 0: no limit
};

class ResultStream;

class Client {
 public:
  // Attaches to the pool; raises slate.Error when it does not exist.
  explicit Client(const std::string& pool);

  // The result document (a dict) once the request ends, or its id (a
  // str) when not waiting. Raises slate.Error when the file is no
  // request, no supervisor leads the pool, the request was abandoned, or
  // the timeout passed (the request goes on). REQUIRES: the GIL held;
  // released while waiting.
  pybind11::object Submit(const SubmitOptions& o);

  std::unique_ptr<ResultStream> Results(const std::string& request_id, double timeout_s);

  // Detaches; later calls raise slate.Error.
  void Close() { pool_.reset(); }
  const std::string& name() const { return name_; }

 private:
  std::shared_ptr<Pool> Attached() const;
  std::string name_;
  std::shared_ptr<Pool> pool_;
};

// slate.results: a request's task items as they end, for a for loop. A
// task done is given as its result lands (not for plans, whose lines may
// run again); the rest, and every item not given yet, come from the
// result document once the request ends, in input order; then the
// iteration stops. Each item is {"index", "id", "task", "status", and
// "result" or "error"}, as in the document.
class ResultStream {
 public:
  ResultStream(std::shared_ptr<Pool> pool, const std::string& request_id, double timeout_s);
  ~ResultStream();
  // The next item; raises StopIteration after the last, slate.Error past
  // the timeout or when the group stops.
  pybind11::object Next();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace slate::python
