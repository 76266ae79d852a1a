#include "slate/internal/id_index.h"

namespace slate::internal {

void IdIndex::Insert(uint32_t slot) {
  Slot& s = r_.slot(slot);
  uint32_t& head = r_.hash()[Bucket(s.id)];
  s.hash_next = head;
  head = slot;
}

void IdIndex::Erase(uint32_t slot) {
  uint32_t* link = &r_.hash()[Bucket(r_.slot(slot).id)];
  for (uint32_t steps = 0; *link != kNil && steps <= r_.geo().slot_capacity;
       ++steps) {
    if (*link == slot) {
      *link = r_.slot(slot).hash_next;
      return;
    }
    link = &r_.slot(*link).hash_next;
  }
}

uint32_t IdIndex::Find(uint64_t id) const {
  uint32_t i = r_.hash()[Bucket(id)];
  for (uint32_t steps = 0; i != kNil && steps <= r_.geo().slot_capacity;
       ++steps) {
    if (!r_.ValidSlot(i)) return kNil;
    const Slot& s = r_.slot(i);
    if (s.id == id && s.state == static_cast<uint8_t>(SlotState::kLive))
      return i;
    i = s.hash_next;
  }
  return kNil;
}

}  // namespace slate::internal
