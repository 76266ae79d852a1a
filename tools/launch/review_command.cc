// slate-launch review: a person's part in a run. Tasks whose retries or
// iterations ran out under on_exhausted review are held in the pool (not
// final, in no queue); the request stays open until each is answered:
//   review                      lists them with their history
//   review accept ID --result   supplies the result; dependents go on
//   review retry ID             runs it again (--feedback: one more round)
//   review reject ID            dead-letters it; dependents are skipped
// Every answer is one pool transaction on the held task (a retry with
// feedback first rewrites its stub, idempotently), so a killed command
// leaves the task held or answered, never half of it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "group_service.h"
#include "slate/json_payload.h"
#include "slate/plan_task.h"
#include "slate/pool.h"

namespace slate::launch {
namespace {

using nlohmann::json;

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "slate-launch review: %s\n", message.c_str());
  return code;
}

std::string TagValue(const Entry& e, const std::string& prefix) {
  for (const auto& t : e.tags)
    if (t.rfind(prefix, 0) == 0) return t.substr(prefix.size());
  return "";
}

bool IsNumber(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Found through their hold records (tag "held" in errors), not by reading
// every task: a pool may hold a million.
Result<std::vector<Entry>> HeldTasks(Pool& pool) {
  Query q;
  q.segments = {segments::kErrors};
  q.all_tags = {"held"};
  q.limit = 0;
  q.with_payload = false;
  auto records = pool.Find(q);
  if (!records.ok()) return records.status();
  std::vector<TaskId> ids;
  for (const Entry& r : *records) {
    const std::string t = TagValue(r, "task:");
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

// The held task ID names: its pool id, or its line's id.
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
                      "'; name one by its pool id (slate-launch review lists them)"};
  if (IsNumber(name))
    if (auto t = pool.GetTask(std::strtoull(name.c_str(), nullptr, 10)); t.ok())
      return Status{StatusCode::kWrongState,
                    "task " + name + " is " + TaskStateName(t->state) + ", not held"};
  return Status{StatusCode::kNotFound, "no held task '" + name + "'"};
}

// The task's records in "errors", oldest first.
std::vector<json> Records(Pool& pool, TaskId id) {
  Query q;
  q.segments = {segments::kErrors};
  q.all_tags = {"task:" + std::to_string(id)};
  q.limit = 0;
  std::vector<json> out;
  if (auto found = pool.Find(q); found.ok())
    for (const Entry& e : *found)
      if (auto rec = PayloadToJson(e.payload); rec.ok() && rec->is_object()) out.push_back(*rec);
  return out;
}

// One held task as `review` shows it: where it is from, why it is held,
// its attempts and errors, the feedback rounds and the last result.
json Describe(Pool& pool, const Entry& e) {
  auto info = pool.GetTask(e.id);
  json d = {{"task", e.id},
            {"request", TagValue(e, "req:")},
            {"index", std::strtoull(TagValue(e, "i:").c_str(), nullptr, 10)},
            {"id", TagValue(e, "id:").empty() ? json(nullptr) : json(TagValue(e, "id:"))},
            {"attempts", info.ok() ? info->attempts : 0}};
  json errors = json::array();
  for (const json& r : Records(pool, e.id)) {
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

void PrintHeld(const json& d) {
  std::printf("task %s  request %s  line %s%s  attempts %s\n", d["task"].dump().c_str(),
              d["request"].get<std::string>().c_str(), d["index"].dump().c_str(),
              d["id"].is_null() ? "" : (" ('" + d["id"].get<std::string>() + "')").c_str(),
              d["attempts"].dump().c_str());
  std::printf("  held: %s\n", d.value("reason", "").c_str());
  for (const auto& err : d["errors"]) std::printf("  error: %s\n", err.dump().c_str());
  if (d.contains("feedback"))
    for (const auto& r : d["feedback"])
      std::printf("  iteration %s: %s\n", r["iteration"].dump().c_str(),
                  r.value("feedback", "").c_str());
  if (d.contains("last_result"))
    std::printf("  last result: %s\n", JsonText(d["last_result"]).c_str());
  std::printf("  payload: %s\n", JsonText(d.value("payload", json(nullptr))).c_str());
}

std::string Who() { return "a person (uid " + std::to_string(getuid()) + ")"; }

int List(Pool& pool, const ServiceOptions& o) {
  auto held = HeldTasks(pool);
  if (!held.ok()) return Fail(held.status().message());
  json all = json::array();
  for (const Entry& e : *held) all.push_back(Describe(pool, e));
  if (o.json) {
    std::printf("%s\n", JsonText(all, 2).c_str());
    return 0;
  }
  if (all.empty()) std::printf("no task is held for review in pool '%s'\n", o.pool.c_str());
  for (const auto& d : all) PrintHeld(d);
  return 0;
}

int Accept(Pool& pool, const Entry& e, const ServiceOptions& o) {
  std::string text = o.result;
  if (!o.result_file.empty()) {
    std::ifstream in(o.result_file, std::ios::binary);
    if (!in) return Fail("cannot read " + o.result_file, 2);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.empty() && o.result_file.empty())
    return Fail("accept needs the result: --result JSON or --result-file F", 2);
  const json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Fail("the result is not valid JSON", 2);
  TaskResult r;
  r.importance = e.importance;
  if (auto stub = DecodePlanTask(e.payload); stub.ok()) r.tags = PlanResultTags(*stub);
  r.tags.push_back("review");
  r.payload = JsonToPayload(value);
  auto id = pool.AcceptHeld(e.id, r, "review");
  if (!id.ok()) return Fail(id.status().message(), id.status().code() == StatusCode::kInvalidArgument ? 2 : 1);
  std::printf("slate-launch: task %llu accepted with the given result; what depends on it goes on\n",
              static_cast<unsigned long long>(e.id));
  return 0;
}

int Retry(Pool& pool, const Entry& e, const ServiceOptions& o) {
  if (!o.feedback.empty()) {
    auto stub = DecodePlanTask(e.payload);
    if (!stub.ok())
      return Fail("task " + std::to_string(e.id) +
                      " is not part of a plan: its command gets no feedback; retry it without "
                      "--feedback",
                  2);
    auto info = pool.GetTask(e.id);
    const uint32_t ran = info.ok() && info->attempts > 0 ? stub->iteration : stub->iteration - 1;
    const json round = {{"iteration", ran}, {"feedback", o.feedback}, {"by", "review"}};
    // A retry killed after this update and run again adds nothing twice.
    if (stub->feedback.empty() || stub->feedback.back() != round) {
      stub->feedback.push_back(round);
      EntryUpdate u;
      u.payload = EncodePlanTask(*stub);
      if (Status s = pool.Update(e.id, u); !s.ok()) return Fail(s.message());
    }
  }
  if (Status s = pool.ResumeHeld(e.id, pool.LiveSupervisorOrShared()); !s.ok()) return Fail(s.message());
  std::printf("slate-launch: task %llu runs again%s\n", static_cast<unsigned long long>(e.id),
              o.feedback.empty() ? "" : " with your feedback");
  return 0;
}

int Reject(Pool& pool, const Entry& e, const ServiceOptions& o) {
  const std::string why = "rejected by " + Who() + (o.feedback.empty() ? "" : ": " + o.feedback);
  auto r = pool.EndTask(e.id, TaskState::kDeadLettered, why);
  if (!r.ok()) return Fail(r.status().message());
  std::printf("slate-launch: task %llu dead-lettered; what depends on it is skipped\n",
              static_cast<unsigned long long>(e.id));
  return 0;
}

}  // namespace

int ReviewTasks(const ServiceOptions& o) {
  const bool list = o.action.empty() || o.action == "list";
  if (!list && o.action != "accept" && o.action != "retry" && o.action != "reject")
    return Fail("unknown action '" + o.action + "' (list, accept, retry, reject)", 2);
  if (!list && o.task.empty())
    return Fail(o.action + " needs the held task's ID (see review --help)", 2);
  auto pool = Pool::Open(o.pool);
  if (!pool.ok()) return Fail(pool.status().message());
  if (list) return List(**pool, o);
  auto e = NamedHeld(**pool, o.task);
  if (!e.ok())
    return Fail(e.status().message(), e.status().code() == StatusCode::kInvalidArgument ? 2 : 1);
  if (o.action == "accept") return Accept(**pool, *e, o);
  if (o.action == "retry") return Retry(**pool, *e, o);
  return Reject(**pool, *e, o);
}

}  // namespace slate::launch
