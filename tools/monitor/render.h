// The monitor's screen as plain text lines: the same for the ncurses view
// and --once, so what a test reads is what an operator sees.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "slate/group_snapshot.h"

namespace slate::monitor {

// Completed tasks over time, for the throughput sparkline.
class ThroughputHistory {
 public:
  void Add(int64_t mono_ns, uint64_t completed);
  // Tasks per second in each of the last `seconds` seconds, oldest first.
  std::vector<double> PerSecond(int seconds) const;

 private:
  std::deque<std::pair<int64_t, uint64_t>> samples_;
};

struct ScreenOptions {
  int width = 80;
  int height = 24;
  bool paused = false;
  bool help = false;
};

std::vector<std::string> RenderScreen(const GroupSnapshot& snap, const std::vector<double>& rates,
                                      const ScreenOptions& options);

// " _.-=+*#@" scaled to the largest value; empty values are spaces.
std::string Sparkline(const std::vector<double>& values);
std::string ProgressBar(uint64_t done, uint64_t total, int width);

}  // namespace slate::monitor
