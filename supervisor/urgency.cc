#include "urgency.h"

#include <algorithm>
#include <utility>

namespace slate::supervisor {

int64_t Urgency(const TaskInfo& t, int64_t now_real_ns, uint32_t age_ms) {
  if (age_ms == 0 || now_real_ns <= t.created_ns) return t.priority;
  return t.priority + (now_real_ns - t.created_ns) / (int64_t{age_ms} * 1'000'000);
}

void RankByUrgency(std::vector<TaskInfo>* tasks, int64_t now_real_ns, uint32_t age_ms) {
  std::vector<std::pair<int64_t, TaskInfo>> ranked;
  ranked.reserve(tasks->size());
  for (auto& t : *tasks) ranked.emplace_back(Urgency(t, now_real_ns, age_ms), std::move(t));
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  tasks->clear();
  for (auto& [urgency, t] : ranked) tasks->push_back(std::move(t));
}

}  // namespace slate::supervisor
