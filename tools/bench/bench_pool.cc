#include "bench_pool.h"

#include <unistd.h>

namespace slate::bench {
namespace {
std::string g_prefix = "bench";  // set once, before any workload runs
}

void SetPoolPrefix(const std::string& prefix) { g_prefix = prefix; }

std::string BenchPoolName(const std::string& what) {
  return g_prefix + "-" + std::to_string(getpid()) + "-" + what;
}

ScratchPool::ScratchPool(const std::string& what, uint32_t slots, uint64_t data_bytes) {
  PoolOptions o;
  o.name = BenchPoolName(what);
  o.slot_capacity = slots;
  o.data_bytes = data_bytes;
  o.max_payload = 4096;  // the bench moves 64-byte payloads
  // Pages allocated at creation, outside the timed window, as in a pool
  // that has been running a while: the figures are the protocol's, not
  // the kernel zeroing fresh pages.
  o.reserve = true;
  (void)Pool::Remove(o.name);
  pool_ = Check(Pool::Create(o));
}

ScratchPool::~ScratchPool() {
  const std::string name = pool_->name();
  pool_.reset();
  (void)Pool::Remove(name);
}

}  // namespace slate::bench
