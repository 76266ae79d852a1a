// A slot's seal and sanity: how a lock holder or a reader tells a slot that
// the protocol wrote from one that something else scribbled on.
//
// The seal is a 32-bit checksum of the slot's bytes and its index, with the
// DERIVED links (a task's queue links among them) and the seal itself read
// as zero; an entry's inline data is covered. Binding the index means a
// valid slot copied elsewhere fails too. Every writer of authoritative slot
// fields goes through Txn::Save, and Txn::Commit reseals what it saved, so
// between transactions every slot (free ones too) carries a true seal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "slate/internal/region.h"

namespace slate::internal {

// The seal of the slot image at p (sizeof(Slot) bytes, any alignment).
uint32_t SealOfBytes(const unsigned char* p, uint32_t index);
inline uint32_t SealOf(const Slot& s, uint32_t index) {
  return SealOfBytes(reinterpret_cast<const unsigned char*>(&s), index);
}
inline bool SealHolds(const Slot& s, uint32_t index) {
  return s.seal == SealOf(s, index);
}
// SealOf a slot whose covered bytes are all zero (a never-used slot), without
// reading it: a slot that is not is left failing its seal, not sealed in.
uint32_t SealOfZeroSlot(uint32_t index);
// The same over a copy of a slot's bytes (a journal record).
inline bool RecordedSealHolds(const unsigned char* p, uint32_t index) {
  uint32_t seal;
  std::memcpy(&seal, p + offsetof(Slot, seal), sizeof seal);
  return seal == SealOfBytes(p, index);
}
inline void Reseal(Slot& s, uint32_t index) { s.seal = SealOf(s, index); }
// RegionCorrupt unless slot i of r holds its seal: for a caller about to let
// the slot's fields decide something (a lock holder repairs, and so
// quarantines it; a read-only view reports it).
inline void RequireSeal(const Region& r, uint32_t i) {
  if (!SealHolds(r.slot(i), i)) ThrowCorrupt("slot " + std::to_string(i) + " fails its seal");
}

// Authoritative sanity of a live slot beyond its seal: nullptr when fine.
// These are the values a lock holder will use as indices or bounds.
const char* LiveSlotProblem(const Region& r, const Slot& s);

// The slot's index when [p, p + n) is exactly one slot of r; kNil otherwise.
inline uint32_t SlotIndexOfRange(const Region& r, const void* p, size_t n) {
  if (n != sizeof(Slot)) return kNil;
  const uint64_t off = r.OffsetOf(p);
  const uint64_t start = r.geo().off_slots;
  if (off < start) return kNil;
  const uint64_t rel = off - start;
  if (rel % sizeof(Slot) != 0 || rel / sizeof(Slot) >= r.geo().slot_capacity) return kNil;
  return static_cast<uint32_t>(rel / sizeof(Slot));
}

}  // namespace slate::internal
