// In-process pool measurements: per-operation cost against the number of
// resident entries, and region bytes per entry.
#pragma once

#include <cstdint>

#include "bench_report.h"

namespace slate::bench {

// Claim and cursor-query cost with `small` and `large` evictable 64-byte
// entries resident in another segment. Median of `repeats` timed batches
// per side, the two sides' batches alternating.
ScalingFigures MeasureScaling(uint64_t small, uint64_t large, int repeats, uint64_t seed);

// Bytes of region per entry beyond a 64-byte payload, for a plain entry,
// a task and a result: the per-slot share (measured as the region's growth
// per added slot) plus the data blocks an entry takes.
MemoryFigures MeasureMemory(uint64_t seed);

}  // namespace slate::bench
