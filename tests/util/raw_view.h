// A second, unchecked read-write view of a pool's region, for tests that
// damage it on purpose the way a careless or hostile peer would: no lock,
// no journal, no seal.
#pragma once

#include <memory>
#include <string>

#include "slate/internal/region.h"
#include "slate/internal/shm_mapping.h"

namespace slate::testing {

class RawView {
 public:
  explicit RawView(const std::string& pool)
      : map_(std::move(internal::ShmMapping::Open(pool, false).value())),
        region_(map_->data(), reinterpret_cast<internal::Header*>(map_->data())->geo) {}
  const internal::Region& r() const { return region_; }
  // The slot holding live entry `id`, or kNil.
  uint32_t SlotOf(EntryId id) const {
    for (uint32_t i = 0; i < region_.geo().slot_capacity; ++i)
      if (region_.slot(i).state == 1 && region_.slot(i).id == id) return i;
    return internal::kNil;
  }

 private:
  std::unique_ptr<internal::ShmMapping> map_;
  internal::Region region_;
};

}  // namespace slate::testing
