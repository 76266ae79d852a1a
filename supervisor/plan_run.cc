#include "plan_run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "slate/plan_task.h"

namespace slate::supervisor {
namespace {

constexpr uint32_t kPage = 4096;

// The state a task's ending record names, for a dependent's skip reason.
const char* EndedAs(const Entry& record) {
  for (const auto& t : record.tags) {
    if (t == "dead-letter") return "dead-lettered";
    if (t == "skipped") return "skipped";
    if (t == "cancelled") return "cancelled";
  }
  return "ended";
}

TaskId TaskOf(const Entry& record) {
  for (const auto& t : record.tags)
    if (t.rfind("task:", 0) == 0) return std::strtoull(t.c_str() + 5, nullptr, 10);
  return 0;
}

// The task changed state, or left the pool, since we looked: nothing to do.
bool MovedOn(const Status& s) {
  return s.code() == StatusCode::kWrongState || s.code() == StatusCode::kNotFound;
}

}  // namespace

PlanRun::PlanRun(Pool& pool, const RequestRecord& req, AgentRef backlog)
    : pool_(pool), req_(req), backlog_(backlog) {}

uint32_t PlanRun::IndexOf(TaskId task) const {
  auto it = std::lower_bound(by_task_.begin(), by_task_.end(), std::make_pair(task, 0u));
  return it != by_task_.end() && it->first == task ? it->second : kNone;
}

Status PlanRun::Start() {
  // Positions first: what happens while the plan is read is applied after
  // it, and applying a result or an ending twice changes nothing.
  auto stats = pool_.Stats();
  if (!stats.ok()) return stats.status();
  const EntryId now = stats->next_id - 1;
  Query results;
  results.segments = {segments::kResults};
  results.with_payload = false;
  results.limit = kPage;
  results_.emplace(pool_, results, now);
  Query endings;
  endings.segments = {segments::kErrors};
  endings.any_tags = {"dead-letter", "skipped", "cancelled"};
  endings.with_payload = false;
  endings.limit = kPage;
  endings_.emplace(pool_, endings, now);

  const size_t n = req_.tasks;
  task_.assign(n, 0);
  result_.assign(n, 0);
  line_.assign(n, Line::kEnded);  // a line with no task was lost
  key_.assign(n, "");
  auto tasks = RequestTasks(pool_, req_, false);
  if (!tasks.ok()) return tasks.status();
  std::vector<std::vector<uint32_t>> after(n);
  std::vector<std::string> ended_as(n, "lost");
  for (const RequestTask& t : *tasks) {
    if (t.index >= n) continue;
    const uint32_t i = static_cast<uint32_t>(t.index);
    task_[i] = t.entry.id;
    key_[i] = t.user_id.value_or("line " + std::to_string(i + 1));
    by_task_.emplace_back(t.entry.id, i);
    auto info = pool_.GetTask(t.entry.id);
    if (!info.ok()) continue;  // quarantined: lost
    if (info->state == TaskState::kDone) {
      line_[i] = Line::kDone;
      result_[i] = info->result_id;
    } else if (IsEnding(info->state)) {
      line_[i] = Line::kEnded;
      ended_as[i] = info->state == TaskState::kDeadLettered ? "dead-lettered"
                                                            : TaskStateName(info->state);
    } else if (info->state == TaskState::kWaiting) {
      auto entry = pool_.Read(t.entry.id);
      auto stub = entry.ok() ? DecodePlanTask(entry->payload) : Result<PlanTask>(entry.status());
      if (!stub.ok()) {
        spdlog::error("plan task {}: {}; it is skipped", t.entry.id, stub.status().message());
        (void)pool_.EndTask(t.entry.id, TaskState::kSkipped, stub.status().message());
        continue;
      }
      line_[i] = Line::kWaiting;
      after[i] = std::move(stub->after);
    } else {
      line_[i] = Line::kOpen;
    }
  }
  std::sort(by_task_.begin(), by_task_.end());
  LinkDependents(after);
  for (uint32_t i = 0; i < n; ++i)
    if (line_[i] == Line::kEnded)
      if (Status s = Ended(i, ended_as[i]); !s.ok()) return s;
  for (uint32_t i = 0; i < n; ++i)
    if (line_[i] == Line::kWaiting && pending_deps_[i] == 0)
      if (Status s = MakeReady(i); !s.ok()) return s;
  return Advance();
}

void PlanRun::LinkDependents(const std::vector<std::vector<uint32_t>>& after) {
  const size_t n = after.size();
  pending_deps_.assign(n, 0);
  dependents_start_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i)
    for (uint32_t d : after[i])
      if (d < n) ++dependents_start_[d + 1];
  for (size_t i = 0; i < n; ++i) dependents_start_[i + 1] += dependents_start_[i];
  dependents_.assign(dependents_start_[n], 0);
  std::vector<uint32_t> fill(dependents_start_.begin(), dependents_start_.end() - 1);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t d : after[i]) {
      if (d >= n) continue;
      dependents_[fill[d]++] = i;
      if (line_[d] != Line::kDone) ++pending_deps_[i];
    }
}

Status PlanRun::Advance() {
  for (;;) {
    auto page = results_->Next();
    if (!page.ok()) return page.status();
    for (const Entry& e : *page) {
      const uint32_t i = e.task_id ? IndexOf(e.task_id) : kNone;
      if (i != kNone && line_[i] != Line::kDone)
        if (Status s = Done(i, e.id); !s.ok()) return s;
    }
    if (page->size() < kPage) break;
  }
  for (;;) {
    auto page = endings_->Next();
    if (!page.ok()) return page.status();
    for (const Entry& e : *page) {
      const uint32_t i = IndexOf(TaskOf(e));
      if (i != kNone && line_[i] != Line::kEnded && line_[i] != Line::kDone)
        if (Status s = Ended(i, EndedAs(e)); !s.ok()) return s;
    }
    if (page->size() < kPage) break;
  }
  return Status::Ok();
}

Status PlanRun::Done(uint32_t line, EntryId result) {
  line_[line] = Line::kDone;
  result_[line] = result;
  for (uint32_t k = dependents_start_[line]; k < dependents_start_[line + 1]; ++k) {
    const uint32_t d = dependents_[k];
    if (line_[d] == Line::kWaiting && --pending_deps_[d] == 0)
      if (Status s = MakeReady(d); !s.ok()) return s;
  }
  return Status::Ok();
}

// Skips every waiting line behind `line`, transitively: a worklist, not
// recursion, so a 100,000-line chain costs no stack.
Status PlanRun::Ended(uint32_t line, const std::string& how) {
  line_[line] = Line::kEnded;
  std::vector<std::pair<uint32_t, std::string>> work = {{line, how}};
  while (!work.empty()) {
    auto [at, as] = std::move(work.back());
    work.pop_back();
    for (uint32_t k = dependents_start_[at]; k < dependents_start_[at + 1]; ++k) {
      const uint32_t d = dependents_[k];
      if (line_[d] != Line::kWaiting) continue;
      line_[d] = Line::kEnded;
      const std::string why = "dependency '" + key_[at] + "' was " + as;
      auto r = pool_.EndTask(task_[d], TaskState::kSkipped, why);
      if (!r.ok() && !MovedOn(r.status())) return r.status();
      spdlog::info("task {} skipped: {}", task_[d], why);
      work.emplace_back(d, "skipped");
    }
  }
  return Status::Ok();
}

// Two transactions, each safe to repeat: the stub gets its dependencies'
// results, then the task joins the backlog. A death between them leaves a
// waiting task whose dependencies are all done, which Start() makes ready.
Status PlanRun::MakeReady(uint32_t line) {
  const TaskId id = task_[line];
  auto entry = pool_.Read(id);
  if (!entry.ok()) return MovedOn(entry.status()) ? Status::Ok() : entry.status();
  auto stub = DecodePlanTask(entry->payload);
  if (!stub.ok()) return stub.status();
  if (!stub->after.empty()) {
    stub->deps.clear();
    for (uint32_t d : stub->after) {
      if (d >= result_.size() || result_[d] == 0)
        return {StatusCode::kCorrupt, "task " + std::to_string(id) +
                                           " was made ready before dependency line " +
                                           std::to_string(d + 1) + " was done"};
      stub->deps.push_back(result_[d]);
    }
    stub->after.clear();
    EntryUpdate u;
    u.payload = EncodePlanTask(*stub);
    if (Status s = pool_.Update(id, u); !s.ok()) return MovedOn(s) ? Status::Ok() : s;
  }
  line_[line] = Line::kOpen;
  Status s = pool_.MakeReady(id, backlog_);
  return MovedOn(s) ? Status::Ok() : s;
}

}  // namespace slate::supervisor
