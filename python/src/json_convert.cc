#include "json_convert.h"

#include <string>

namespace slate::python {

namespace py = pybind11;

py::object ToPython(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& v : j) l.append(ToPython(v));
      return l;
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& [k, v] : j.items()) d[py::str(k)] = ToPython(v);
      return d;
    }
    default:  // binary, discarded: not in a decoded payload
      return py::none();
  }
}

nlohmann::json FromPython(py::handle o) {
  if (o.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(o)) return o.cast<bool>();
  if (py::isinstance<py::int_>(o)) {
    // Beyond 64 bits: an error rather than a silent wrap.
    if (o.cast<py::int_>() < py::int_(0)) return o.cast<int64_t>();
    return o.cast<uint64_t>();
  }
  if (py::isinstance<py::float_>(o)) return o.cast<double>();
  if (py::isinstance<py::str>(o)) return o.cast<std::string>();
  if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
    nlohmann::json a = nlohmann::json::array();
    for (py::handle v : o) a.push_back(FromPython(v));
    return a;
  }
  if (py::isinstance<py::dict>(o)) {
    nlohmann::json m = nlohmann::json::object();
    for (auto [k, v] : o.cast<py::dict>()) {
      if (!py::isinstance<py::str>(k))
        throw py::type_error("a payload's dict keys must be str, not " +
                             std::string(py::str(py::type::of(k).attr("__name__"))));
      m[k.cast<std::string>()] = FromPython(v);
    }
    return m;
  }
  throw py::type_error("a payload holds None, bool, int, float, str, list, tuple and dict, not " +
                       std::string(py::str(py::type::of(o).attr("__name__"))));
}

}  // namespace slate::python
