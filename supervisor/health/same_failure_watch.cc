#include "health/same_failure_watch.h"

namespace slate::supervisor {

bool SameFailureWatch::Note(TaskId task, uint32_t attempt, const std::string& worker,
                            const std::string& error) {
  if (disarmed_) return false;
  if (tasks_.empty()) {
    error_ = error;
  } else if (error != error_) {
    disarmed_ = true;
    return false;
  }
  tasks_.insert(task);
  if (!worker.empty()) by_worker_[worker].insert(task);
  retried_ = retried_ || attempt >= 2;
  return tasks_.size() >= 2;
}

bool SameFailureWatch::Convinced(const std::set<std::string>& able) const {
  if (disarmed_ || able.empty()) return false;
  for (const std::string& w : able) {
    const auto it = by_worker_.find(w);
    if (it == by_worker_.end()) return false;  // it may yet succeed
    if (it->second.size() < 2 && !retried_) return false;
  }
  return true;
}

}  // namespace slate::supervisor
