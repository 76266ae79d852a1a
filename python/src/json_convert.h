// Payloads between Python objects and the JSON the pool's payloads decode
// to (slate/json_payload.h): None, bool, int, float, str, list (and
// tuple), dict with str keys. Anything else is a TypeError naming it.
// REQUIRES: the GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace slate::python {

pybind11::object ToPython(const nlohmann::json& j);
nlohmann::json FromPython(pybind11::handle o);

}  // namespace slate::python
