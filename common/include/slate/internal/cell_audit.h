// The cell arena's part of CheckRegion(): which cells live data holds, and
// whether the free lists, the cell map and the counters agree with that.
// Reads a region that may be corrupt: every index is range-checked and
// every walk bounded; findings go to `bad`, nothing is repaired.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slate/internal/cell_store.h"

namespace slate::internal {

class CellAudit {
 public:
  CellAudit(const Region& r, std::function<void(std::string)> bad);

  // Records the cells of one live entry's data; false (reported, naming
  // `who`) when they leave the cells handed out or are used twice.
  bool MarkData(const DataRef& d, const std::string& who);
  // After every live entry is marked: the free lists, the map, the counts.
  void CheckFree();

 private:
  uint32_t High() const { return high_; }
  bool WalkClass(uint32_t c, uint64_t* listed, uint64_t* extents);
  void CheckMap();

  const Region& r_;
  std::function<void(std::string)> bad_;
  uint32_t high_;
  std::vector<uint8_t> used_;  // per cell below high_: 1 live data, 2 listed free
  std::vector<std::pair<uint32_t, uint32_t>> free_;  // listed extents
  uint64_t used_count_ = 0;
};

}  // namespace slate::internal
