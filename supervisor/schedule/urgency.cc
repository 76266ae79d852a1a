#include "schedule/urgency.h"

#include <algorithm>

namespace slate::supervisor {

int64_t Urgency(const TaskInfo& t, int64_t now_real_ns, uint32_t age_ms) {
  if (age_ms == 0 || now_real_ns <= t.created_ns) return t.priority;
  return t.priority + (now_real_ns - t.created_ns) / (int64_t{age_ms} * 1'000'000);
}

std::vector<Ranked> RankByUrgency(std::vector<TaskInfo> tasks, int64_t now_real_ns,
                                  uint32_t age_ms) {
  std::vector<Ranked> ranked;
  ranked.reserve(tasks.size());
  for (auto& t : tasks) ranked.push_back({Urgency(t, now_real_ns, age_ms), std::move(t)});
  const auto more_urgent = [](const Ranked& a, const Ranked& b) { return a.urgency > b.urgency; };
  if (!std::is_sorted(ranked.begin(), ranked.end(), more_urgent))
    std::stable_sort(ranked.begin(), ranked.end(), more_urgent);
  return ranked;
}

}  // namespace slate::supervisor
