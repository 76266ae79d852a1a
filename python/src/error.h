// slate.Error: what the pool or a worker refused, with the pool's message.
#pragma once

#include <stdexcept>

namespace slate::python {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace slate::python
