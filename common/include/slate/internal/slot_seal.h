// A slot's seal and sanity: how a lock holder or a reader tells a slot that
// the protocol wrote from one that something else scribbled on.
//
// The seal is a 32-bit checksum of the slot's bytes and its index, with the
// DERIVED links and the seal itself read as zero. Binding the index means a
// valid slot copied elsewhere fails too. Every writer of authoritative slot
// fields goes through Txn::Save, and Txn::Commit reseals what it saved, so
// between transactions every slot (free ones too) carries a true seal.
#pragma once

#include <cstdint>
#include <string>

#include "slate/internal/region.h"

namespace slate::internal {

uint32_t SealOf(const Slot& s, uint32_t index);
inline bool SealHolds(const Slot& s, uint32_t index) {
  return s.seal == SealOf(s, index);
}
inline void Reseal(Slot& s, uint32_t index) { s.seal = SealOf(s, index); }

// Authoritative sanity of a live slot beyond its seal: nullptr when fine.
// These are the values a lock holder will use as indices or bounds.
const char* LiveSlotProblem(const Region& r, const Slot& s);

// The slot's index when [p, p + n) is exactly one slot of r; kNil otherwise.
uint32_t SlotIndexOfRange(const Region& r, const void* p, size_t n);

}  // namespace slate::internal
