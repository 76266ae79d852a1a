#include "slate/internal/evict_heap.h"

namespace slate::internal {

// Members read from the heap array and positions read from slots are
// checked before use (RegionCorrupt): both are derived, so Rebuild() fixes
// whatever damage stops an operation here.

bool EvictHeap::Before(uint32_t a, uint32_t b) const {
  const Slot& x = r_.CheckedSlot(a, "heap member");
  const Slot& y = r_.CheckedSlot(b, "heap member");
  if (x.importance != y.importance) return x.importance < y.importance;
  return x.id < y.id;
}

void EvictHeap::Place(uint32_t pos, uint32_t slot) {
  r_.heap()[pos] = slot;
  r_.CheckedSlot(slot, "heap member").heap_pos = pos;
}

uint32_t EvictHeap::CheckedPos(uint32_t slot) const {
  const uint32_t pos = r_.slot(slot).heap_pos;
  if (pos == kNil) return kNil;
  if (pos >= r_.header().derived.heap_size || r_.heap()[pos] != slot)
    ThrowCorrupt("eviction heap position of slot " + std::to_string(slot) + " disagrees");
  return pos;
}

uint32_t EvictHeap::SiftUp(uint32_t pos) {
  uint32_t* h = r_.heap();
  const uint32_t moving = h[pos];
  while (pos > 0) {
    const uint32_t parent = (pos - 1) / 2;
    if (!Before(moving, h[parent])) break;
    Place(pos, h[parent]);
    pos = parent;
  }
  Place(pos, moving);
  return pos;
}

void EvictHeap::SiftDown(uint32_t pos) {
  uint32_t* h = r_.heap();
  const uint32_t n = r_.header().derived.heap_size;
  const uint32_t moving = h[pos];
  for (;;) {
    uint32_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && Before(h[child + 1], h[child])) ++child;
    if (!Before(h[child], moving)) break;
    Place(pos, h[child]);
    pos = child;
  }
  Place(pos, moving);
}

void EvictHeap::Push(uint32_t slot) {
  uint32_t& n = r_.header().derived.heap_size;
  if (n >= r_.geo().slot_capacity) ThrowCorrupt("eviction heap is over-full");
  Place(n, slot);
  ++n;
  SiftUp(n - 1);
}

void EvictHeap::Remove(uint32_t slot) {
  const uint32_t pos = CheckedPos(slot);
  if (pos == kNil) return;
  uint32_t& n = r_.header().derived.heap_size;
  const uint32_t last = r_.heap()[--n];
  r_.slot(slot).heap_pos = kNil;
  if (last == slot) return;
  Place(pos, last);
  if (SiftUp(pos) == pos) SiftDown(pos);
}

uint32_t EvictHeap::Top() const {
  if (r_.header().derived.heap_size == 0) return kNil;
  const uint32_t top = r_.heap()[0];
  r_.CheckedSlot(top, "heap member");
  return top;
}

void EvictHeap::Fix(uint32_t slot) {
  const uint32_t pos = CheckedPos(slot);
  if (pos == kNil) return;
  if (SiftUp(pos) == pos) SiftDown(pos);
}

}  // namespace slate::internal
