// slate.submit: a request to a running group, as `slate-launch submit`
// makes it (the request record the service supervisor picks up), and its
// result document once it ends.
#pragma once

#include <pybind11/pybind11.h>

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

}  // namespace slate::python
