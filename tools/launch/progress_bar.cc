#include "progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "slate/clock.h"

namespace slate::launch {

ProgressBar::ProgressBar() : enabled_(isatty(2) == 1), start_ns_(NowMonoNs()) {}

void ProgressBar::Update(uint64_t done, uint64_t failed, uint64_t total, uint32_t workers) {
  if (!enabled_ || total == 0) return;
  const int64_t now = NowMonoNs();
  if (now - last_draw_ns_ < 100'000'000 && done + failed < total) return;
  last_draw_ns_ = now;
  constexpr int kWidth = 30;
  const uint64_t finished = done + failed;
  const int filled = static_cast<int>(kWidth * finished / total);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  const double secs = static_cast<double>(now - start_ns_) / 1e9;
  std::fprintf(stderr, "\r[%s] %llu/%llu done, %llu failed, %u workers, %.1f s ", bar.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
               static_cast<unsigned long long>(failed), workers, secs);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace slate::launch
