#include "delegator.h"

#include <algorithm>

namespace slate::supervisor {

Result<Policy> ParsePolicy(const std::string& s) {
  if (s == "round-robin") return Policy::kRoundRobin;
  if (s == "least-loaded") return Policy::kLeastLoaded;
  return Status{StatusCode::kInvalidArgument,
                "unknown policy '" + s + "' (known: round-robin, least-loaded)"};
}

bool HasCapability(const WorkerView& w, const std::string& cap) {
  return cap.empty() ||
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
    size_t in_turn = capable[turn_[cap] % capable.size()];
    if (workers[in_turn].ref.row == avoid_row && capable.size() > 1) {
      turn_[cap] += 1;  // a retry: the next in turn takes it instead
      in_turn = capable[turn_[cap] % capable.size()];
    }
    if (HasRoom(workers[in_turn])) c.worker = in_turn;
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

bool Delegator::HasRoom(const WorkerView& w) const {
  return w.load < std::min(max_pending_, w.max_load);
}

void Delegator::Assigned(std::vector<WorkerView>& workers, size_t index,
                         const std::string& cap) {
  workers[index].load += 1;
  turn_[cap] += 1;
}

}  // namespace slate::supervisor
