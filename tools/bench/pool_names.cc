#include "pool_names.h"

#include <unistd.h>

namespace slate::bench {
namespace {
std::string g_prefix = "bench";  // set once, before any workload runs
}

void SetPoolPrefix(const std::string& prefix) { g_prefix = prefix; }

std::string BenchPoolName(const std::string& what) {
  return g_prefix + "-" + std::to_string(getpid()) + "-" + what;
}

}  // namespace slate::bench
