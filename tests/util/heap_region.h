// A pool region in ordinary heap memory, for unit tests of the structures
// that live in it: no shared memory, no mutex, one thread.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>

#include "slate/internal/pool_impl.h"
#include "slate/internal/region.h"

namespace slate::testing {

class HeapRegion {
 public:
  explicit HeapRegion(uint32_t slots = 256, uint64_t data_bytes = 256 << 10) {
    PoolOptions o;
    o.name = "heap";
    o.slot_capacity = slots;
    o.data_bytes = data_bytes;
    o.max_payload = 16 << 10;
    o.agent_capacity = 4;
    geo_ = internal::ComputeGeometry(o).value();
    mem_.reset(static_cast<uint8_t*>(std::aligned_alloc(4096, geo_.region_bytes)));
    std::memset(mem_.get(), 0, geo_.region_bytes);
    region_ = std::make_unique<internal::Region>(mem_.get(), geo_);
    internal::FormatRegion(*region_, "heap");
  }
  const internal::Region& r() const { return *region_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  internal::Geometry geo_{};
  std::unique_ptr<uint8_t, Free> mem_;
  std::unique_ptr<internal::Region> region_;
};

}  // namespace slate::testing
