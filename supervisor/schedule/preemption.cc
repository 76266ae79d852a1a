#include "schedule/preemption.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "request/request_store.h"

namespace slate::supervisor {

void Preemption::Placed(const TaskInfo& t, int64_t urgency) {
  if (urgency > t.priority) placed_at_[t.id] = urgency;
  else placed_at_.erase(t.id);
}

void Preemption::Forget(const std::function<bool(TaskId)>& finished) {
  std::erase_if(placed_at_, [&](const auto& p) { return finished(p.first); });
}

std::vector<Preemption::Victim>& Preemption::Victims(const std::vector<WorkerView>& workers) {
  if (victims_) return *victims_;
  victims_.emplace();
  for (size_t w = 0; w < workers.size(); ++w) {
    auto running = pool_.RunningTasks(workers[w].ref);
    if (!running.ok()) continue;
    auto infos = pool_.GetTasks(*running);
    if (!infos.ok()) continue;
    for (const TaskInfo& info : *infos) {
      const auto placed = placed_at_.find(info.id);
      victims_->push_back(
          {placed != placed_at_.end() ? placed->second : int64_t{info.priority}, info.id, w});
    }
  }
  std::stable_sort(victims_->begin(), victims_->end(),
                   [](const Victim& a, const Victim& b) { return a.urgency < b.urgency; });
  return *victims_;
}

Result<std::optional<AgentRef>> Preemption::For(const TaskInfo& t,
                                                const std::vector<WorkerView>& workers) {
  if (margin_ == 0 || std::any_of(workers.begin(), workers.end(), [&](const WorkerView& w) {
        return w.load == 0 && HasCapability(w, t.requires_cap);
      }))
    return std::optional<AgentRef>();
  auto& victims = Victims(workers);
  for (size_t k = 0; k < victims.size();) {
    if (victims[k].urgency > int64_t{t.priority} - int64_t{margin_}) break;
    const Victim v = victims[k];
    const WorkerView& w = workers[v.worker];
    if (!HasCapability(w, t.requires_cap)) {
      ++k;
      continue;
    }
    auto entry = pool_.Read(v.task);
    if (!entry.ok() ||
        std::find(entry->tags.begin(), entry->tags.end(), kNoPreemptTag) != entry->tags.end()) {
      ++k;  // gone, or it opted out
      continue;
    }
    // Taken off the list whatever happens: preempted now, or moved on.
    victims.erase(victims.begin() + static_cast<std::ptrdiff_t>(k));
    const std::string why = "preempted on '" + w.name + "' by task " + std::to_string(t.id) +
                            " (priority " + std::to_string(t.priority) + " over " +
                            std::to_string(v.urgency) + ")";
    Status s = pool_.Preempt(v.task, me_, why);
    if (!s.ok()) {
      // It changed state or left the pool since it was read.
      if (s.code() == StatusCode::kWrongState || s.code() == StatusCode::kNotFound) continue;
      return s;
    }
    spdlog::info("task {} {}", v.task, why);
    return std::optional<AgentRef>(w.ref);
  }
  return std::optional<AgentRef>();
}

bool Preemption::OnlyPreemptionCanPlace(int64_t priority, const std::vector<WorkerView>& workers,
                                        const Delegator& delegator) {
  if (delegator.AnyRoom(workers)) return false;
  if (margin_ == 0) return true;
  const auto& victims = Victims(workers);
  return victims.empty() || victims.front().urgency > priority - int64_t{margin_};
}

}  // namespace slate::supervisor
