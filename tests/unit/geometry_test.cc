#include <gtest/gtest.h>

#include "slate/internal/region.h"

namespace slate::internal {
namespace {

PoolOptions Opts() {
  PoolOptions o;
  o.name = "g";
  return o;
}

TEST(GeometryTest, DefaultsLayOutAlignedNonOverlappingAreas) {
  auto sut = ComputeGeometry(Opts());
  ASSERT_TRUE(sut.ok()) << sut.status().ToString();
  const Geometry& g = *sut;
  EXPECT_EQ(g.off_segments % 4096, 0u);
  EXPECT_EQ(g.off_slots % 4096, 0u);
  EXPECT_EQ(g.off_cells % 4096, 0u);
  EXPECT_LT(g.off_segments, g.off_agents);
  EXPECT_LE(g.off_slots + 128ull * g.slot_capacity, g.off_hash);
  EXPECT_LE(g.off_heap + 4ull * g.slot_capacity, g.off_cell_map);
  EXPECT_LE(g.off_cell_map + (g.cell_count + 63) / 64 * 8, g.off_cells);
  EXPECT_LE(g.off_cells + uint64_t{kCellBytes} * g.cell_count, g.region_bytes);
  EXPECT_EQ(g.hash_buckets, 65536u);
}

TEST(GeometryTest, ValidateAcceptsItsOwnOutputAndRefusesChanges) {
  auto g = ComputeGeometry(Opts());
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(ValidateGeometry(*g, g->region_bytes).ok());
  EXPECT_EQ(ValidateGeometry(*g, g->region_bytes + 4096).code(),
            StatusCode::kIncompatible);
  Geometry shifted = *g;
  shifted.off_cells += 64;
  EXPECT_EQ(ValidateGeometry(shifted, g->region_bytes).code(), StatusCode::kCorrupt);
  Geometry absurd = *g;
  absurd.slot_capacity = 0;
  EXPECT_EQ(ValidateGeometry(absurd, g->region_bytes).code(), StatusCode::kCorrupt);
}

TEST(GeometryTest, RefusesOutOfRangeOptions) {
  auto bad = [](auto mutate) {
    PoolOptions o = Opts();
    mutate(o);
    return ComputeGeometry(o).status().code();
  };
  EXPECT_EQ(bad([](PoolOptions& o) { o.slot_capacity = 3; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PoolOptions& o) { o.max_payload = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PoolOptions& o) { o.agent_capacity = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PoolOptions& o) { o.mode = 0666; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](PoolOptions& o) { o.data_bytes = 4096; }), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate::internal
