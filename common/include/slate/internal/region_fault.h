// SIGBUS from a pool region: what a process sees when another process
// shrinks the region's file (ftruncate) under its mapping.
//
// Every mapping a Pool makes is registered here. The first registration
// installs a SIGBUS handler; a fault inside a registered mapping writes one
// clear line to stderr and ends the process with kExitRegionLost, instead of
// a silent "Bus error". A fault anywhere else is left to the default action.
// A lock held at that moment is released by the kernel (robust mutex), and
// the next locker rolls the transaction back, as after any crash.
#pragma once

#include <cstddef>
#include <string>

namespace slate::internal {

// Registers [base, base + bytes) as pool `pool`'s mapping; returns a handle
// for UnregisterRegion, or -1 when the (fixed, 64-entry) table is full, in
// which case the mapping is simply not guarded.
// With remove_if_lost, the handler also unlinks the pool's name (the group's
// owner does: the pool is lost, and nobody else would remove it).
int RegisterRegion(const void* base, size_t bytes, const std::string& pool,
                   bool remove_if_lost = false);
void UnregisterRegion(int handle);

}  // namespace slate::internal
