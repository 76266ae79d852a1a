// Names of the pools the bench creates: "<prefix>-<pid>-<what>", so runs
// never collide and a leftover is easy to attribute. Prefix: --pool-prefix.
#pragma once

#include <string>

namespace slate::bench {

void SetPoolPrefix(const std::string& prefix);
std::string BenchPoolName(const std::string& what);

}  // namespace slate::bench
