#include "plan/plan_run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "slate/json_payload.h"

namespace slate::supervisor {
namespace {

using nlohmann::json;

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

std::string EndedAs(TaskState s) {
  return s == TaskState::kDeadLettered ? "dead-lettered" : TaskStateName(s);
}

std::optional<uint64_t> TagNumber(const Entry& e, const char* prefix) {
  const size_t n = std::char_traits<char>::length(prefix);
  for (const auto& t : e.tags)
    if (t.compare(0, n, prefix) == 0) return std::strtoull(t.c_str() + n, nullptr, 10);
  return std::nullopt;
}

bool HasTag(const Entry& e, const std::string& tag) {
  return std::find(e.tags.begin(), e.tags.end(), tag) != e.tags.end();
}

uint16_t IterationOf(const Entry& task) {
  return static_cast<uint16_t>(TagNumber(task, "it:").value_or(1));
}

// The task changed state, or left the pool, since we looked: nothing to do.
bool MovedOn(const Status& s) {
  return s.code() == StatusCode::kWrongState || s.code() == StatusCode::kNotFound;
}

// Why a task ended without a result, from its ending record; "" if none.
std::string EndingReason(Pool& pool, TaskId task) {
  Query q;
  q.segments = {segments::kErrors};
  q.all_tags = {"task:" + std::to_string(task)};
  q.any_tags = {"dead-letter", "cancelled", "skipped"};
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok() || found->empty()) return "";
  auto rec = PayloadToJson(found->back().payload);
  return rec.ok() && rec->is_object() ? rec->value("reason", "") : "";
}

Result<PlanTask> StubOf(const Pool& pool, TaskId task) {
  auto entry = pool.Read(task);
  if (!entry.ok()) return entry.status();
  return DecodePlanTask(entry->payload);
}

}  // namespace

PlanRun::PlanRun(Pool& pool, const RequestRecord& req, AgentRef backlog,
                 Exhaustion& exhaustion, Placer place)
    : pool_(pool), req_(req), backlog_(backlog), exhaustion_(exhaustion),
      place_(std::move(place)) {}

const PlanRun::TaskRef* PlanRun::Find(TaskId task) const {
  auto it = std::lower_bound(by_task_.begin(), by_task_.end(), TaskRef{task, 0, 0, Kind::kMain});
  return it != by_task_.end() && it->id == task ? &*it : nullptr;
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
  checked_.assign(n, false);
  auto tasks = RequestTasks(pool_, req_, false);
  if (!tasks.ok()) return tasks.status();
  for (const RequestTask& t : *tasks) {
    if (t.index >= n) continue;
    const uint32_t i = static_cast<uint32_t>(t.index);
    by_task_.push_back({t.entry.id, i, IterationOf(t.entry), Kind::kMain});
    task_[i] = t.entry.id;  // ordered by id within a line: the latest wins
    key_[i] = t.user_id.value_or("line " + std::to_string(i + 1));
    checked_[i] = req_.options.validate && !HasTag(t.entry, kNoValidateTag);
  }
  // The validations, and the latest of each line.
  std::vector<TaskId> validation(n, 0);
  if (req_.options.validate) {
    Query q;
    q.segments = {segments::kTasks};
    q.all_tags = {"req:" + req_.id, kValidateTag};
    q.with_payload = false;
    q.limit = 0;
    auto found = pool_.Find(q);
    if (!found.ok()) return found.status();
    for (const Entry& e : *found) {
      const auto i = TagNumber(e, "v:");
      if (!i || *i >= n) continue;
      by_task_.push_back({e.id, static_cast<uint32_t>(*i), IterationOf(e), Kind::kValidation});
      validation[*i] = std::max(validation[*i], e.id);
    }
  }
  std::sort(by_task_.begin(), by_task_.end());

  std::vector<std::vector<uint32_t>> after(n);
  std::vector<std::string> ended_as(n, "lost");
  std::vector<std::pair<uint32_t, std::string>> exhausted;  // to apply again
  std::vector<uint32_t> unvalidated;                        // done, not yet checked
  for (uint32_t i = 0; i < n; ++i) {
    if (task_[i] == 0) continue;
    auto info = pool_.GetTask(task_[i]);
    if (!info.ok() && info.status().code() == StatusCode::kStaleTerm) return info.status();
    if (!info.ok()) continue;  // quarantined: lost
    if (info->state == TaskState::kDone) {
      line_[i] = Line::kDone;
      result_[i] = info->result_id;
      if (NeedsValidation(i)) {
        auto res = pool_.Read(info->result_id);
        if (res.ok() && !HasTag(*res, "review")) {
          line_[i] = Line::kValidating;
          result_[i] = 0;
          unvalidated.push_back(i);
        }
      }
    } else if (IsEnding(info->state)) {
      ended_as[i] = EndedAs(info->state);
    } else if (info->state == TaskState::kWaiting) {
      auto stub = StubOf(pool_, task_[i]);
      if (!stub.ok()) {
        spdlog::error("plan task {}: {}; it is skipped", task_[i], stub.status().message());
        (void)pool_.EndTask(task_[i], TaskState::kSkipped, stub.status().message());
        continue;
      }
      if (!stub->exhausted.empty()) {
        line_[i] = Line::kOpen;
        exhausted.emplace_back(i, stub->exhausted);
      } else {
        line_[i] = Line::kWaiting;
        after[i] = std::move(stub->after);
      }
    } else {
      line_[i] = Line::kOpen;  // pending, running, failed or held
    }
  }
  LinkDependents(after);
  for (uint32_t i = 0; i < n; ++i)
    if (line_[i] == Line::kEnded)
      if (Status s = Ended(i, ended_as[i]); !s.ok()) return s;
  for (uint32_t i = 0; i < n; ++i)
    if (line_[i] == Line::kWaiting && pending_deps_[i] == 0)
      if (Status s = MakeReady(i); !s.ok()) return s;
  for (const auto& [i, why] : exhausted)
    if (Status s = exhaustion_.Apply(task_[i], why); !s.ok()) return s;
  // Where each done-but-unchecked line's validation stands.
  for (uint32_t i : unvalidated) {
    const TaskRef* v = validation[i] ? Find(validation[i]) : nullptr;
    const uint16_t iteration = Find(task_[i])->iteration;
    if (v == nullptr || v->iteration != iteration) {
      auto info = pool_.GetTask(task_[i]);
      if (!info.ok()) continue;
      if (Status s = Validate(i, task_[i], info->result_id); !s.ok()) return s;
      continue;
    }
    auto vinfo = pool_.GetTask(v->id);
    if (!vinfo.ok()) {
      if (Status s = OnValidationEnded(i, v->id, "lost"); !s.ok()) return s;
    } else if (vinfo->state == TaskState::kDone) {
      auto verdict = pool_.Read(vinfo->result_id);
      Status s = verdict.ok() ? OnVerdict(i, v->id, *verdict)
                              : OnValidationEnded(i, v->id, "lost");
      if (!s.ok()) return s;
    } else if (IsEnding(vinfo->state)) {
      if (Status s = OnValidationEnded(i, v->id, EndedAs(vinfo->state)); !s.ok()) return s;
    }
  }
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
      const TaskRef* t = e.task_id ? Find(e.task_id) : nullptr;
      if (t != nullptr)
        if (Status s = OnResult(*t, e); !s.ok()) return s;
    }
    if (page->size() < kPage) break;
  }
  for (;;) {
    auto page = endings_->Next();
    if (!page.ok()) return page.status();
    for (const Entry& e : *page) {
      const auto task = TagNumber(e, "task:");
      const TaskRef* t = task ? Find(*task) : nullptr;
      if (t == nullptr) continue;
      const uint32_t i = t->line;
      Status s;
      if (t->kind == Kind::kMain && t->id == task_[i] && line_[i] != Line::kEnded &&
          line_[i] != Line::kDone)
        s = Ended(i, EndedAs(e));
      else if (t->kind == Kind::kValidation && line_[i] == Line::kValidating &&
               Find(task_[i])->iteration == t->iteration)
        s = OnValidationEnded(i, t->id, EndedAs(e));
      if (!s.ok()) return s;
    }
    if (page->size() < kPage) break;
  }
  return Status::Ok();
}

// A result of the line's current task is accepted, or sent to be checked;
// a validation's result is its verdict. Anything older is history.
Status PlanRun::OnResult(const TaskRef& t, const Entry& result) {
  const uint32_t i = t.line;
  if (t.kind == Kind::kValidation) {
    if (line_[i] != Line::kValidating || Find(task_[i])->iteration != t.iteration)
      return Status::Ok();
    auto verdict = pool_.Read(result.id);
    if (!verdict.ok()) return OnValidationEnded(i, t.id, "lost");
    return OnVerdict(i, t.id, *verdict);
  }
  if (t.id != task_[i] || line_[i] != Line::kOpen) return Status::Ok();
  if (NeedsValidation(i) && !HasTag(result, "review")) return Validate(i, t.id, result.id);
  return Done(i, result.id);
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
  auto stub = StubOf(pool_, id);
  if (!stub.ok()) return MovedOn(stub.status()) ? Status::Ok() : stub.status();
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
  const AgentRef to = place_ ? place_(id) : backlog_;
  Status s = pool_.MakeReady(id, to);
  if (!s.ok() && !MovedOn(s) && !(to == backlog_))  // the worker left meanwhile
    s = pool_.MakeReady(id, backlog_);
  return MovedOn(s) ? Status::Ok() : s;
}

Status PlanRun::Validate(uint32_t line, TaskId main, EntryId result) {
  if (exhaustion_.Stopped()) return Iterate(line, "", 0, "the request stopped");
  auto stub = StubOf(pool_, main);
  if (!stub.ok()) return MovedOn(stub.status()) ? Status::Ok() : stub.status();
  stub->validates = result;
  stub->exhausted.clear();
  auto v = PostFor(line, Kind::kValidation, *stub, false);
  if (!v.ok()) return v.status();
  line_[line] = Line::kValidating;
  spdlog::debug("task {} (iteration {}) goes to validation task {}", main, stub->iteration, *v);
  return Status::Ok();
}

Status PlanRun::OnVerdict(uint32_t line, TaskId validation, const Entry& verdict) {
  auto printed = PayloadToJson(verdict.payload);
  auto v = printed.ok() ? ParseVerdict(*printed) : Result<Verdict>(printed.status());
  if (!v.ok()) return OnValidationEnded(line, validation, "unreadable: " + v.status().message());
  auto stub = StubOf(pool_, validation);
  if (!stub.ok()) return MovedOn(stub.status()) ? Status::Ok() : stub.status();
  if (v->ok) return Done(line, stub->validates);
  spdlog::info("line '{}' iteration {} sent back: {}", key_[line], stub->iteration, v->feedback);
  return Iterate(line, v->feedback, stub->validates);
}

Status PlanRun::OnValidationEnded(uint32_t line, TaskId validation, const std::string& how) {
  auto stub = StubOf(pool_, validation);
  const EntryId checked = stub.ok() ? stub->validates : 0;
  std::string why = "its validation (task " + std::to_string(validation) + ") was " + how;
  if (auto reason = EndingReason(pool_, validation); !reason.empty()) why += ": " + reason;
  return Iterate(line, "no verdict: " + why, checked, why, how == "cancelled");
}

Status PlanRun::Iterate(uint32_t line, const std::string& feedback, EntryId rejected,
                        const std::string& exhausted_why, bool cancelled) {
  auto stub = StubOf(pool_, task_[line]);
  if (!stub.ok()) return MovedOn(stub.status()) ? Status::Ok() : stub.status();
  const uint32_t ran = stub->iteration;
  if (!feedback.empty()) {
    json round = {{"iteration", ran}, {"feedback", feedback}};
    if (rejected != 0) round["result_id"] = rejected;
    stub->feedback.push_back(std::move(round));
  }
  stub->iteration = ran + 1;
  stub->validates = 0;
  stub->exhausted.clear();
  const bool stopped = exhaustion_.Stopped();
  if (exhausted_why.empty() && ran < req_.options.max_iterations && !stopped) {
    auto next = PostFor(line, Kind::kMain, *stub, false);
    if (!next.ok()) return next.status();
    task_[line] = *next;
    line_[line] = Line::kOpen;
    return Status::Ok();
  }
  // Out of iterations (or stopped): the line's last task is posted waiting
  // with the whole history, and its fate is the policy's. Start() applies
  // it again to such a task found still waiting.
  std::string why = !exhausted_why.empty() ? exhausted_why
                                           : "validation failed after " + std::to_string(ran) +
                                                 " iteration(s); last feedback: " + feedback;
  if (stopped) why = "the request stopped before line '" + key_[line] + "' was accepted";
  stub->exhausted = why;
  auto last = PostFor(line, Kind::kMain, *stub, true);
  if (!last.ok()) return last.status();
  task_[line] = *last;
  line_[line] = Line::kOpen;
  if (stopped || cancelled) {
    auto r = pool_.EndTask(*last, TaskState::kCancelled, why);
    return r.ok() || MovedOn(r.status()) ? Status::Ok() : r.status();
  }
  return exhaustion_.Apply(*last, why);
}

Result<TaskId> PlanRun::PostFor(uint32_t line, Kind kind, const PlanTask& stub, bool waiting) {
  const TaskId cur = task_[line];
  auto info = pool_.GetTask(cur);
  if (!info.ok()) return info.status();
  auto entry = pool_.Read(cur);
  if (!entry.ok()) return entry.status();
  TaskSpec spec;
  spec.entry.segment = segments::kTasks;
  spec.entry.author = "supervisor";
  spec.entry.importance = entry->importance;
  spec.entry.keep = true;
  spec.entry.payload = EncodePlanTask(stub);
  const std::string it = "it:" + std::to_string(stub.iteration);
  if (kind == Kind::kMain) {
    for (const auto& t : entry->tags)
      if (t.rfind("it:", 0) != 0) spec.entry.tags.push_back(t);
    spec.entry.tags.push_back(it);
    spec.requires_cap = info->requires_cap;
    spec.deadline_ns = info->deadline_ns;
  } else {
    spec.entry.tags = {"req:" + req_.id, "v:" + std::to_string(line), it, kValidateTag,
                       kPlanTag};
    spec.requires_cap = kValidateCap;
  }
  spec.priority = info->priority;
  spec.max_retries = info->max_retries;
  spec.timeout_ms = info->timeout_ms;
  spec.waiting = waiting;
  spec.assignee = waiting ? kSharedQueue : backlog_;
  auto id = pool_.PostTask(spec);
  if (!id.ok()) return id.status();
  by_task_.push_back({*id, line, static_cast<uint16_t>(stub.iteration), kind});
  posted_ids_.push_back(*id);
  ++posted_;
  return id;
}

}  // namespace slate::supervisor
