// Resizing a caller's reused vector of entries or claims without giving
// their payload buffers back: a shrink moves the removed elements' buffers
// to a per-thread spare list and a growth hands them to the new elements,
// so a caller that passes the same vector each time allocates only when
// its batches outgrow every earlier one. (Only the payload is kept: the
// other strings of an entry are short enough to live inside the object.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "slate/entry.h"
#include "slate/task.h"

namespace slate::internal {

// Buffers kept per thread and element type: beyond this, a shrink frees.
inline constexpr size_t kMaxRecycled = 1024;

inline std::vector<uint8_t>& PayloadOf(Entry& e) { return e.payload; }
inline std::vector<uint8_t>& PayloadOf(Claim& c) { return c.entry.payload; }

// Makes v hold n elements. Those kept keep their contents; those added are
// value-initialised, an empty payload with a recycled buffer's capacity.
template <typename T>
void RecycledResize(std::vector<T>* v, size_t n) {
  thread_local std::vector<std::vector<uint8_t>> spare;
  for (size_t i = n; i < v->size() && spare.size() < kMaxRecycled; ++i) {
    std::vector<uint8_t>& p = PayloadOf((*v)[i]);
    if (p.capacity() > 0) spare.push_back(std::move(p));
  }
  const size_t old = v->size();
  v->resize(n);
  for (size_t i = old; i < n && !spare.empty(); ++i) {
    std::vector<uint8_t>& p = PayloadOf((*v)[i]);
    p.swap(spare.back());
    p.clear();
    spare.pop_back();
  }
}

}  // namespace slate::internal
