#include "schedule/delegator.h"

#include <algorithm>

namespace slate::supervisor {

Result<Policy> ParsePolicy(const std::string& s) {
  if (s == "round-robin") return Policy::kRoundRobin;
  if (s == "least-loaded") return Policy::kLeastLoaded;
  return Status{StatusCode::kInvalidArgument,
                "unknown policy '" + s + "' (known: round-robin, least-loaded)"};
}

bool HasCapability(const WorkerView& w, const std::string& cap) {
  if (cap.empty()) return !w.only_required;
  return
         std::find(w.capabilities.begin(), w.capabilities.end(), cap) != w.capabilities.end();
}

Delegator::Choice Delegator::Choose(const std::vector<WorkerView>& workers,
                                    const std::string& cap, uint32_t avoid_row) {
  std::vector<size_t> capable;
  for (size_t i = 0; i < workers.size(); ++i)
    if (HasCapability(workers[i], cap)) capable.push_back(i);
  Choice c;
  c.any_capable = !capable.empty();
  if (capable.empty()) return c;
  if (policy_ == Policy::kRoundRobin) {
    const uint64_t turn = turn_[cap];
    std::optional<uint64_t> avoided;  // a retry's last worker: only if no other has room
    for (uint64_t k = turn; k < turn + capable.size(); ++k) {
      const size_t i = capable[k % capable.size()];
      if (!HasRoom(workers[i])) continue;
      if (workers[i].ref.row == avoid_row && capable.size() > 1) {
        if (!avoided) avoided = k;
        continue;
      }
      c.worker = i;
      chosen_turn_ = k + 1;
      return c;
    }
    if (avoided) {
      c.worker = capable[*avoided % capable.size()];
      chosen_turn_ = *avoided + 1;
    }
    return c;
  }
  for (size_t i : capable) {
    if (!HasRoom(workers[i])) continue;
    if (!c.worker) {
      c.worker = i;
      continue;
    }
    const WorkerView& best = workers[*c.worker];
    const bool avoid_best = best.ref.row == avoid_row;
    const bool avoid_i = workers[i].ref.row == avoid_row;
    if (avoid_best != avoid_i ? avoid_best : workers[i].load < best.load) c.worker = i;
  }
  return c;
}

bool Delegator::AnyRoom(const std::vector<WorkerView>& workers) const {
  return std::any_of(workers.begin(), workers.end(),
                     [this](const WorkerView& w) { return HasRoom(w); });
}

bool Delegator::HasRoom(const WorkerView& w) const {
  return w.load < std::min(max_pending_, w.max_load);
}

void Delegator::Assigned(std::vector<WorkerView>& workers, size_t index,
                         const std::string& cap) {
  workers[index].load += 1;
  if (policy_ == Policy::kRoundRobin) turn_[cap] = chosen_turn_;
}

}  // namespace slate::supervisor
