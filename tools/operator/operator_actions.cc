#include "operator_actions.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "request/request_store.h"
#include "slate/json_payload.h"
#include "slate/plan_task.h"

namespace slate::ops {
namespace {

using nlohmann::json;

bool IsNumber(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

Result<Cancelled> EndAll(Pool& pool, const std::vector<TaskId>& ids, const std::string& who) {
  Cancelled done;
  for (TaskId id : ids) {
    auto before = pool.GetTask(id);
    if (!before.ok() || IsFinal(before->state)) continue;
    auto r = pool.EndTask(id, TaskState::kCancelled, "cancelled by " + who);
    if (r.ok()) {
      ++done.tasks;
      done.running += before->state == TaskState::kRunning;
    } else if (r.status().code() != StatusCode::kWrongState) {
      return Status{r.status().code(), "task " + std::to_string(id) + ": " + r.status().message()};
    }
  }
  return done;
}

}  // namespace

Result<Cancelled> CancelRequest(Pool& pool, const std::string& request, const std::string& who) {
  auto req = supervisor::LoadRequest(pool, supervisor::RecordIdOf(request));
  if (!req.ok())
    return Status{StatusCode::kNotFound, "no request " + request + " in pool '" + pool.name() + "'"};
  // First the record: the supervisor starts nothing new for the request
  // (no next iteration, no validation) once it says cancelled.
  if (!req->cancelled) {
    req->cancelled = true;
    if (Status s = supervisor::SaveRequest(pool, *req); !s.ok()) return s;
  }
  auto ids = supervisor::TaskIdsOf(pool, request);
  if (!ids.ok()) return ids.status();
  return EndAll(pool, *ids, who);
}

Result<Cancelled> CancelTask(Pool& pool, const std::string& task, const std::string& request,
                             const std::string& who) {
  if (IsNumber(task) && pool.GetTask(std::strtoull(task.c_str(), nullptr, 10)).ok()) {
    const TaskId id = std::strtoull(task.c_str(), nullptr, 10);
    auto t = pool.GetTask(id);
    if (IsFinal(t->state))
      return Status{StatusCode::kWrongState,
                    "task " + task + " is already " + TaskStateName(t->state)};
    return EndAll(pool, {id}, who);
  }
  Query q;
  q.segments = {segments::kTasks};
  q.all_tags = {"id:" + task};
  if (!request.empty()) q.all_tags.push_back("req:" + request);
  q.with_payload = false;
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return found.status();
  std::vector<TaskId> ids;
  for (const Entry& e : *found)
    if (auto t = pool.GetTask(e.id); t.ok() && !IsFinal(t->state)) ids.push_back(e.id);
  if (ids.empty()) {
    for (const Entry& e : *found)  // it exists, but has finished
      if (auto t = pool.GetTask(e.id); t.ok())
        return Status{StatusCode::kWrongState, "task '" + task + "' (" + std::to_string(e.id) +
                                                   ") is already " + TaskStateName(t->state)};
    return Status{StatusCode::kNotFound, "no task '" + task + "' in pool '" + pool.name() + "'"};
  }
  if (ids.size() > 1 && request.empty())
    return Status{StatusCode::kInvalidArgument,
                  std::to_string(ids.size()) + " unfinished tasks have the id '" + task +
                      "'; name one with its request or by its pool id"};
  return EndAll(pool, ids, who);
}

Result<std::vector<Entry>> HeldTasks(Pool& pool) {
  // Through their hold records (tag "held" in errors), not by reading
  // every task: a pool may hold a million.
  Query q;
  q.segments = {segments::kErrors};
  q.all_tags = {"held"};
  q.limit = 0;
  q.with_payload = false;
  auto records = pool.Find(q);
  if (!records.ok()) return records.status();
  std::vector<TaskId> ids;
  for (const Entry& r : *records) {
    const std::string t = TagValue(r, "task:").value_or("");
    if (!t.empty()) ids.push_back(std::strtoull(t.c_str(), nullptr, 10));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<Entry> held;
  for (TaskId id : ids)
    if (auto t = pool.GetTask(id); t.ok() && t->state == TaskState::kHeld)
      if (auto whole = pool.Read(id); whole.ok()) held.push_back(std::move(*whole));
  return held;
}

Result<Entry> NamedHeld(Pool& pool, const std::string& name) {
  auto held = HeldTasks(pool);
  if (!held.ok()) return held.status();
  std::vector<Entry> match;
  for (Entry& e : *held)
    if ((IsNumber(name) && std::to_string(e.id) == name) || TagValue(e, "id:") == name)
      match.push_back(std::move(e));
  if (match.size() == 1) return std::move(match.front());
  if (match.size() > 1)
    return Status{StatusCode::kInvalidArgument,
                  std::to_string(match.size()) + " held tasks have the id '" + name +
                      "'; name one by its pool id"};
  if (IsNumber(name))
    if (auto t = pool.GetTask(std::strtoull(name.c_str(), nullptr, 10)); t.ok())
      return Status{StatusCode::kWrongState,
                    "task " + name + " is " + TaskStateName(t->state) + ", not held"};
  return Status{StatusCode::kNotFound, "no held task '" + name + "'"};
}

std::vector<json> TaskRecords(Pool& pool, TaskId id) {
  Query q;
  q.segments = {segments::kErrors};
  q.all_tags = {"task:" + std::to_string(id)};
  q.after_id = id;  // a task's records come after it
  q.limit = 0;
  std::vector<json> out;
  if (auto found = pool.Find(q); found.ok())
    for (const Entry& e : *found)
      if (auto rec = PayloadToJson(e.payload); rec.ok() && rec->is_object()) out.push_back(*rec);
  return out;
}

json DescribeHeld(Pool& pool, const Entry& e) {
  auto info = pool.GetTask(e.id);
  json d = {{"task", e.id},
            {"request", TagValue(e, "req:").value_or("")},
            {"index", std::strtoull(TagValue(e, "i:").value_or("").c_str(), nullptr, 10)},
            {"id", TagValue(e, "id:") ? json(*TagValue(e, "id:")) : json(nullptr)},
            {"attempts", info.ok() ? info->attempts : 0}};
  json errors = json::array();
  for (const json& r : TaskRecords(pool, e.id)) {
    if (r.value("kind", "") == "held") d["reason"] = r.value("reason", "");
    else if (r.contains("error")) errors.push_back(r["error"]);
  }
  d["errors"] = std::move(errors);
  if (auto stub = DecodePlanTask(e.payload); stub.ok()) {
    d["payload"] = stub->payload;
    if (auto env = BuildEnvelope(pool, *stub); env.ok()) {
      d["feedback"] = (*env)["feedback"];
      if (!d["feedback"].empty() && d["feedback"].back().contains("result"))
        d["last_result"] = d["feedback"].back()["result"];
    }
  } else if (auto p = PayloadToJson(e.payload); p.ok()) {
    d["payload"] = *p;
  }
  return d;
}

Status AcceptHeld(Pool& pool, const Entry& e, const json& result) {
  TaskResult r;
  r.importance = e.importance;
  if (auto stub = DecodePlanTask(e.payload); stub.ok()) r.tags = PlanResultTags(*stub);
  r.tags.push_back("review");
  r.payload = JsonToPayload(result);
  return pool.AcceptHeld(e.id, r, "review").status();
}

Status RetryHeld(Pool& pool, const Entry& e, const std::string& feedback) {
  if (!feedback.empty()) {
    auto stub = DecodePlanTask(e.payload);
    if (!stub.ok())
      return Status{StatusCode::kInvalidArgument,
                    "task " + std::to_string(e.id) +
                        " is not part of a plan: its command gets no feedback; retry it "
                        "without feedback"};
    auto info = pool.GetTask(e.id);
    const uint32_t ran = info.ok() && info->attempts > 0 ? stub->iteration : stub->iteration - 1;
    const json round = {{"iteration", ran}, {"feedback", feedback}, {"by", "review"}};
    // A retry killed after this update and run again adds nothing twice.
    if (stub->feedback.empty() || stub->feedback.back() != round) {
      stub->feedback.push_back(round);
      EntryUpdate u;
      u.payload = EncodePlanTask(*stub);
      if (Status s = pool.Update(e.id, u); !s.ok()) return s;
    }
  }
  return pool.ResumeHeld(e.id, pool.LiveSupervisorOrShared());
}

Status RejectHeld(Pool& pool, const Entry& e, const std::string& feedback, const std::string& who) {
  const std::string why = "rejected by " + who + (feedback.empty() ? "" : ": " + feedback);
  return pool.EndTask(e.id, TaskState::kDeadLettered, why).status();
}

}  // namespace slate::ops
