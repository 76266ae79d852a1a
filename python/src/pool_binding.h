// slate.Pool: the pool itself from Python. Entries (write, read, update,
// erase, find, wait), tasks (post, claim with a lease, renew, complete,
// fail) and agents (register, heartbeat, deregister). Payloads cross as
// Python objects (json_convert.h); a refusal is slate.Error with the
// pool's message; the GIL is released while a call holds the pool's lock
// or waits.
#pragma once

#include <pybind11/pybind11.h>

namespace slate::python {

void BindPool(pybind11::module_& m);

}  // namespace slate::python
