#include <bit>
#include <cstring>
#include <string>

#include "slate/entry.h"
#include "slate/internal/entry_codec.h"
#include "slate/internal/region.h"

namespace slate::internal {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kMaxSlots = 1u << 28;
constexpr uint64_t kMaxBlocks = 1ull << 31;
constexpr uint32_t kMaxPayloadLimit = 256u << 20;

Status Bad(const std::string& what) {
  return {StatusCode::kInvalidArgument, what};
}

Geometry Lay(uint32_t slots, uint32_t block_bytes, uint64_t blocks,
             uint32_t max_payload, uint32_t agents, uint32_t mode) {
  Geometry g{};
  g.slot_capacity = slots;
  g.block_bytes = block_bytes;
  g.block_count = static_cast<uint32_t>(blocks);
  g.max_payload = max_payload;
  g.agent_capacity = agents;
  g.hash_buckets = std::bit_ceil(slots);
  g.max_data_bytes = kMaxPrefixBytes + max_payload;
  g.mode = mode;
  uint64_t off = AlignUp(sizeof(Header), kPage);
  g.off_segments = off;
  off = AlignUp(off + sizeof(SegmentRow) * kSegmentCapacity, 64);
  g.off_agents = off;
  off = AlignUp(off + sizeof(AgentRow) * agents, kPage);
  g.off_slots = off;
  off = AlignUp(off + sizeof(Slot) * uint64_t{slots}, 64);
  g.off_hash = off;
  off = AlignUp(off + 4ull * g.hash_buckets, 64);
  g.off_heap = off;
  off = AlignUp(off + 4ull * slots, kPage);
  g.off_blocks = off;
  g.region_bytes = AlignUp(off + uint64_t{block_bytes} * blocks, kPage);
  return g;
}

}  // namespace

Result<Geometry> ComputeGeometry(const PoolOptions& o) {
  if (o.slot_capacity < 16 || o.slot_capacity > kMaxSlots)
    return Bad("slot capacity " + std::to_string(o.slot_capacity) +
               " is outside [16, " + std::to_string(kMaxSlots) + "]");
  if (o.block_bytes < 64 || o.block_bytes > 4096 || o.block_bytes % 64 != 0)
    return Bad("block size " + std::to_string(o.block_bytes) +
               " is not a multiple of 64 in [64, 4096]");
  if (o.max_payload < 1 || o.max_payload > kMaxPayloadLimit)
    return Bad("max payload " + std::to_string(o.max_payload) +
               " is outside [1, " + std::to_string(kMaxPayloadLimit) + "]");
  if (o.agent_capacity < 1 || o.agent_capacity > 1024)
    return Bad("agent capacity " + std::to_string(o.agent_capacity) +
               " is outside [1, 1024]");
  if (o.mode != 0600 && o.mode != 0660)
    return Bad("mode must be 0600, or 0660 for a trusted group");
  const uint64_t blocks = o.data_bytes / o.block_bytes;
  const uint64_t one_max_entry =
      (kMaxPrefixBytes + uint64_t{o.max_payload} + o.block_bytes - 5) /
      (o.block_bytes - kBlockLinkBytes);
  if (blocks < one_max_entry)
    return Bad("data bytes " + std::to_string(o.data_bytes) +
               " cannot hold even one entry of the max payload");
  if (blocks >= kMaxBlocks)
    return Bad("data bytes " + std::to_string(o.data_bytes) +
               " exceed the layout's block index range");
  return Lay(o.slot_capacity, o.block_bytes, blocks, o.max_payload,
             o.agent_capacity, o.mode);
}

Status ValidateGeometry(const Geometry& geo, uint64_t file_bytes) {
  if (geo.slot_capacity < 16 || geo.slot_capacity > kMaxSlots ||
      geo.block_bytes < 64 || geo.block_bytes > 4096 ||
      geo.block_bytes % 64 != 0 || geo.agent_capacity < 1 ||
      geo.agent_capacity > 1024 || geo.max_payload < 1 ||
      geo.max_payload > kMaxPayloadLimit || geo.block_count == 0 ||
      geo.block_count >= kMaxBlocks)
    return {StatusCode::kCorrupt, "header geometry is out of range"};
  const Geometry expect = Lay(geo.slot_capacity, geo.block_bytes,
                              geo.block_count, geo.max_payload,
                              geo.agent_capacity, geo.mode);
  if (std::memcmp(&expect, &geo, sizeof(Geometry)) != 0)
    return {StatusCode::kCorrupt, "header geometry is inconsistent"};
  if (geo.region_bytes != file_bytes)
    return {StatusCode::kIncompatible,
            "size mismatch: header says " + std::to_string(geo.region_bytes) +
                " bytes, region has " + std::to_string(file_bytes)};
  return Status::Ok();
}

}  // namespace slate::internal
