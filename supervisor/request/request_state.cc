#include "request/request_state.h"

#include <algorithm>

namespace slate::supervisor {

RequestState::RequestState(Pool& pool, RequestRecord req, AgentRef backlog,
                           PlanRun::Placer place)
    : pool_(pool), req_(std::move(req)) {
  if (req_.plan) plan_.emplace(pool_, req_, backlog, exhaustion_, std::move(place));
}

Status RequestState::Start() {
  if (exhaustion_.Stopped())
    if (Status s = exhaustion_.Resume(); !s.ok()) return s;
  if (plan_)
    if (Status s = plan_->Start(); !s.ok()) return s;
  auto ids = TaskIdsOf(pool_, req_.id);
  if (!ids.ok()) return ids.status();
  ids_ = std::move(*ids);
  if (plan_) (void)plan_->TakePosted();  // read above with the rest
  return Status::Ok();
}

Status RequestState::Advance() {
  if (!plan_) return Status::Ok();
  Status s = plan_->Advance();
  TakePlanPosts();
  return s;
}

// A post takes the pool's next id, larger than any of ours: ids_ stays
// ascending by appending.
void RequestState::TakePlanPosts() {
  for (TaskId id : plan_->TakePosted()) ids_.push_back(id);
}

Result<bool> RequestState::AnyDone() {
  constexpr size_t kBatch = 64;
  for (size_t at = 0; at < ids_.size(); at += kBatch) {
    const std::span<const TaskId> batch(ids_.data() + at, std::min(kBatch, ids_.size() - at));
    auto infos = pool_.GetTasks(batch);
    if (!infos.ok()) return infos.status();
    for (const TaskInfo& t : *infos)
      if (t.state == TaskState::kDone) return true;
  }
  return false;
}

bool RequestState::Owns(TaskId id) const {
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

Result<bool> RequestState::AllFinal() {
  if (final_ < ids_.size()) {  // the common case: the oldest is still going
    auto t = pool_.GetTask(ids_[final_]);
    if (t.ok() && !IsFinal(t->state)) return false;
    if (!t.ok() && t.status().code() != StatusCode::kNotFound) return t.status();
    ++final_;  // final, or gone from the pool
  }
  constexpr size_t kBatch = 64;
  while (final_ < ids_.size()) {
    const std::span<const TaskId> batch(ids_.data() + final_,
                                        std::min(kBatch, ids_.size() - final_));
    auto infos = pool_.GetTasks(batch);
    if (!infos.ok()) return infos.status();
    size_t k = 0;  // infos are in batch order, without the ids gone
    for (TaskId id : batch) {
      if (k < infos->size() && (*infos)[k].id == id) {
        if (!IsFinal((*infos)[k].state)) return false;
        ++k;
      }
      ++final_;
    }
  }
  return true;
}

}  // namespace slate::supervisor
