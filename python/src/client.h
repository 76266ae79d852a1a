// slate.submit: a request to a running group, as `slate-launch submit`
// makes it (the request record the service supervisor picks up), and its
// result document once it ends.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

namespace slate::python {

struct SubmitOptions {
  std::string pool;
  std::string path;           // the request file; the supervisor reads it
  std::string split = "jsonl";
  int priority = 0;           // -128..127, added to each line's
  bool wait = true;
  double timeout_s = 0;       // 0: no limit
};

// The result document (a dict) once the request ends, or its id (a str)
// when not waiting. Raises slate.Error when the file is no request, no
// supervisor leads the pool, the request was abandoned, or the timeout
// passed (the request goes on). REQUIRES: the GIL held; released while
// waiting.
pybind11::object Submit(const SubmitOptions& o);

// slate.results: a request's task items as they end, for a for loop. A
// task done is given as its result lands (not for plans, whose lines may
// run again); the rest, and every item not given yet, come from the
// result document once the request ends, in input order; then the
// iteration stops. Each item is {"index", "id", "task", "status", and
// "result" or "error"}, as in the document.
class ResultStream {
 public:
  ResultStream(const std::string& pool, const std::string& request_id, double timeout_s);
  ~ResultStream();
  // The next item; raises StopIteration after the last, slate.Error past
  // the timeout or when the group stops.
  pybind11::object Next();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace slate::python
