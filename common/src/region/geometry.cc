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
constexpr uint64_t kMaxCells = 1ull << 31;
constexpr uint32_t kMaxPayloadLimit = 256u << 20;

Status Bad(const std::string& what) {
  return {StatusCode::kInvalidArgument, what};
}

Geometry Lay(uint32_t slots, uint64_t cells, uint32_t max_payload, uint32_t agents,
             uint32_t mode) {
  Geometry g{};
  g.slot_capacity = slots;
  g.cell_bytes = kCellBytes;
  g.cell_count = static_cast<uint32_t>(cells);
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
  g.off_cell_map = off;
  off = AlignUp(off + (cells + 63) / 64 * 8, kPage);
  g.off_cells = off;
  g.region_bytes = AlignUp(off + kCellBytes * cells, kPage);
  return g;
}

}  // namespace

Result<Geometry> ComputeGeometry(const PoolOptions& o) {
  if (o.slot_capacity < 16 || o.slot_capacity > kMaxSlots)
    return Bad("slot capacity " + std::to_string(o.slot_capacity) +
               " is outside [16, " + std::to_string(kMaxSlots) + "]");
  if (o.max_payload < 1 || o.max_payload > kMaxPayloadLimit)
    return Bad("max payload " + std::to_string(o.max_payload) +
               " is outside [1, " + std::to_string(kMaxPayloadLimit) + "]");
  if (o.agent_capacity < 1 || o.agent_capacity > 1024)
    return Bad("agent capacity " + std::to_string(o.agent_capacity) +
               " is outside [1, 1024]");
  if (o.mode != 0600 && o.mode != 0660)
    return Bad("mode must be 0600, or 0660 for a trusted group");
  const uint64_t cells = o.data_bytes / kCellBytes;
  const uint64_t one_max_entry = (kMaxPrefixBytes + uint64_t{o.max_payload} + kCellBytes - 1) / kCellBytes;
  if (cells < one_max_entry)
    return Bad("data bytes " + std::to_string(o.data_bytes) +
               " cannot hold even one entry of the max payload");
  if (cells >= kMaxCells)
    return Bad("data bytes " + std::to_string(o.data_bytes) +
               " exceed the layout's cell index range");
  return Lay(o.slot_capacity, cells, o.max_payload, o.agent_capacity, o.mode);
}

Status ValidateGeometry(const Geometry& geo, uint64_t file_bytes) {
  if (geo.slot_capacity < 16 || geo.slot_capacity > kMaxSlots ||
      geo.cell_bytes != kCellBytes || geo.agent_capacity < 1 ||
      geo.agent_capacity > 1024 || geo.max_payload < 1 ||
      geo.max_payload > kMaxPayloadLimit || geo.cell_count == 0 ||
      geo.cell_count >= kMaxCells)
    return {StatusCode::kCorrupt, "header geometry is out of range"};
  const Geometry expect = Lay(geo.slot_capacity, geo.cell_count, geo.max_payload,
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
