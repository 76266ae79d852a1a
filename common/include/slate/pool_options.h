// What a pool is made of. Fixed at creation: the region never grows.
#pragma once

#include <cstdint>
#include <string>

namespace slate {

struct PoolOptions {
  // [A-Za-z0-9._-], 1 to 64 characters. The region is /dev/shm/slate.<name>.
  std::string name;
  // Entry slots: the most entries the pool holds at once.
  uint32_t slot_capacity = 65536;
  // Bytes for entry data (author, tags and payload), in 16-byte cells: an
  // entry takes its data length rounded up to 16.
  uint64_t data_bytes = 64ull << 20;
  // Largest payload one entry may carry.
  uint32_t max_payload = 1u << 20;
  // Agents (workers, supervisor, coordinator) registered at once, 1..1024.
  uint32_t agent_capacity = 64;
  // File mode of the region: 0600, or 0660 when a group shares a pool.
  uint32_t mode = 0600;
  // Allocate the whole region in /dev/shm at creation (Create fails with
  // kPoolFull if it has no room). Otherwise pages are taken a window at a
  // time as entries need them, and a full /dev/shm makes writes kPoolFull
  // later. Reserving costs the region's full size in memory from the start
  // and spares the first use of each page its allocation. Not stored.
  bool reserve = false;
  // For a group's owner (slate-launch): if this process faults on a region
  // another process shrank, remove the pool's name before exiting, so the
  // lost pool does not outlive the group. Not stored in the region.
  bool remove_if_lost = false;
};

// Validates a pool name; the message says what is wrong with it.
bool IsValidPoolName(const std::string& name, std::string* why = nullptr);

// The POSIX shared-memory name for a pool ("slate.<name>", no slash).
std::string ShmNameFor(const std::string& pool_name);

}  // namespace slate
