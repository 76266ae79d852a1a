#include "schedule/fair_share.h"

#include <tuple>

namespace slate::supervisor {

int64_t WaitedPriority(const Share& s, int64_t now_mono_ns, uint32_t age_ms) {
  if (age_ms == 0 || now_mono_ns <= s.served_ns) return s.head_priority;
  return s.head_priority + (now_mono_ns - s.served_ns) / (int64_t{age_ms} * 1'000'000);
}

std::optional<size_t> NextShare(std::span<const Share> shares, int64_t now_mono_ns,
                                uint32_t age_ms) {
  std::optional<size_t> best;
  // Larger keys go first.
  auto key = [&](const Share& s) {
    return std::make_tuple(WaitedPriority(s, now_mono_ns, age_ms),
                           -int64_t{s.on_workers}, -s.served_ns);
  };
  for (size_t i = 0; i < shares.size(); ++i) {
    if (!shares[i].open) continue;
    if (!best || key(shares[i]) > key(shares[*best])) best = i;
  }
  return best;
}

}  // namespace slate::supervisor
