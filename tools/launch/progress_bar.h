// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#pragma once

#include <cstdint>

namespace slate::launch {

class ProgressBar {
 public:
  ProgressBar();
  // done and failed count towards total; redraws at most 10 times a second.
  void Update(uint64_t done, uint64_t failed, uint64_t total, uint32_t workers);
  void Clear();  // erases the line before other output
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  bool drawn_ = false;
  int64_t last_draw_ns_ = 0;
  int64_t start_ns_;
};

}  // namespace slate::launch
