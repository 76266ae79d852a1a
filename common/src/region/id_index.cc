#include "slate/internal/id_index.h"

namespace slate::internal {

// Every link is read once and checked before it is followed; a chain that
// leaves the slot table, loops or holds a slot of another bucket is damage.

void IdIndex::Insert(uint32_t slot) {
  Slot& s = r_.slot(slot);
  uint32_t& head = r_.hash()[Bucket(s.id)];
  s.hash_next = head;
  head = slot;
}

void IdIndex::Erase(uint32_t slot) {
  const uint64_t id = r_.slot(slot).id;
  uint32_t* link = &r_.hash()[Bucket(id)];
  for (uint32_t steps = 0; steps <= r_.geo().slot_capacity; ++steps) {
    const uint32_t at = *link;
    if (at == kNil) break;
    if (at == slot) {
      *link = r_.slot(slot).hash_next;
      return;
    }
    link = &r_.CheckedSlot(at, "id index link").hash_next;
  }
  ThrowCorrupt("entry " + std::to_string(id) + " is missing from the id index");
}

uint32_t IdIndex::Find(uint64_t id) const {
  const uint32_t bucket = Bucket(id);
  uint32_t i = r_.hash()[bucket];
  for (uint32_t steps = 0; i != kNil; ++steps) {
    if (steps > r_.geo().slot_capacity) ThrowCorrupt("id index chain loops");
    const Slot& s = r_.CheckedSlot(i, "id index link");
    const uint64_t sid = s.id;
    const uint8_t state = s.state;
    if (sid == id && state == static_cast<uint8_t>(SlotState::kLive)) return i;
    if (Bucket(sid) != bucket)
      ThrowCorrupt("id index chain of bucket " + std::to_string(bucket) + " reaches slot " +
                   std::to_string(i) + " of another bucket");
    i = s.hash_next;
  }
  return kNil;
}

}  // namespace slate::internal
