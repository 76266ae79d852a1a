// The pools the bench creates, and its error handling. Pools are named
// "<prefix>-<pid>-<what>" (prefix: --pool-prefix), so runs never collide
// and a leftover is easy to attribute; each is removed when its owner
// goes. A failed pool call ends the workload with its message.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "slate/pool.h"

namespace slate::bench {

void SetPoolPrefix(const std::string& prefix);
std::string BenchPoolName(const std::string& what);

template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().message());
  return std::move(*r);
}
inline void Check(const Status& s) {
  if (!s.ok()) throw std::runtime_error(s.message());
}

// A pool made for one measurement (payloads up to 4 KiB), removed on
// destruction.
class ScratchPool {
 public:
  ScratchPool(const std::string& what, uint32_t slots, uint64_t data_bytes);
  ~ScratchPool();
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;
  Pool& pool() { return *pool_; }
  const std::string& name() const { return pool_->name(); }

 private:
  std::unique_ptr<Pool> pool_;
};

}  // namespace slate::bench
