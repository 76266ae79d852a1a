#include "aggregate.h"

#include <set>

#include "slate/json_payload.h"

namespace slate::supervisor {
namespace {

using json = nlohmann::ordered_json;

// Payloads decoded keeping their keys in the order the handler wrote them.
json PayloadOrNote(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return nullptr;
  try {
    return json::from_msgpack(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    return "<undecodable payload: " + std::string(e.what()) + ">";
  }
}

// Failure records and the dead-letter record of one task, oldest first.
void ErrorsOf(Pool& pool, TaskId id, json* failures, std::string* dead_reason,
              std::vector<EntryId>* error_ids) {
  Query q;
  q.segments = {segments::kErrors};
  q.all_tags = {"task:" + std::to_string(id)};
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return;
  for (const Entry& e : *found) {
    error_ids->push_back(e.id);
    const json rec = PayloadOrNote(e.payload);
    const bool dead = std::find(e.tags.begin(), e.tags.end(), "dead-letter") != e.tags.end();
    if (dead && rec.is_object() && rec.contains("reason")) *dead_reason = rec["reason"];
    if (!dead && rec.is_object()) {  // a failure, or an attempt lost with its worker
      json f = {{"attempt", rec.value("attempt", 0)},
                {"worker", rec.value("agent", "")},
                {"error", rec.value("error", "")}};
      if (rec.value("kind", "") == "lost") f["lost"] = true;
      if (rec.contains("started_ns")) f["started_ns"] = rec["started_ns"];
      if (rec.contains("ended_ns")) f["ended_ns"] = rec["ended_ns"];
      failures->push_back(std::move(f));
    }
  }
}

}  // namespace

std::string DumpJson(const nlohmann::ordered_json& j, int indent) {
  return JsonText(j, indent);
}

namespace {

// A task whose entry, or whose result's entry, the pool quarantined: it was
// damaged by a process outside the protocol, and what it held is gone.
json LostItem(uint64_t index, const std::optional<std::string>& user_id,
              std::optional<TaskId> task, const std::string& why) {
  return {{"index", index},
          {"id", user_id ? json(*user_id) : json(nullptr)},
          {"task", task ? json(*task) : json(nullptr)},
          {"status", "lost"},
          {"error", why}};
}

constexpr const char* kTaskLost =
    "the task's entry was damaged in the pool and quarantined; rerun it";
constexpr const char* kResultLost =
    "its result's entry was damaged in the pool and quarantined; rerun it";

}  // namespace

Result<Aggregate> BuildAggregate(Pool& pool, const RequestRecord& req, int64_t wall_ns) {
  auto tasks = RequestTasks(pool, req, false);
  if (!tasks.ok()) return tasks.status();
  Aggregate agg;
  json list = json::array();
  std::set<std::string> workers;
  json dead = json::array();
  json lost = json::array();
  uint64_t retries = 0;
  uint64_t next_index = 0;  // every index the request has gets an item
  auto add_lost = [&](json item) {
    lost.push_back({{"index", item["index"]}, {"id", item["id"]}, {"task", item["task"]},
                    {"error", item["error"]}});
    list.push_back(std::move(item));
    ++agg.lost;
  };
  for (const RequestTask& t : *tasks) {
    for (; next_index < t.index && next_index < req.tasks; ++next_index)
      add_lost(LostItem(next_index, std::nullopt, std::nullopt, kTaskLost));
    next_index = t.index + 1;
    auto info = pool.GetTask(t.entry.id);
    if (!info.ok()) {
      add_lost(LostItem(t.index, t.user_id, t.entry.id, kTaskLost));
      continue;
    }
    agg.tasks.push_back(t.entry.id);
    json item = {{"index", t.index},
                 {"id", t.user_id ? json(*t.user_id) : json(nullptr)},
                 {"task", t.entry.id},
                 {"status", TaskStateName(info->state)},
                 {"attempts", info->attempts}};
    retries += info->attempts > 1 ? info->attempts - 1 : 0;
    if (info->state == TaskState::kDone) {
      auto res = pool.Read(info->result_id);
      if (!res.ok()) {
        add_lost(LostItem(t.index, t.user_id, t.entry.id, kResultLost));
        continue;
      }
      item["result"] = PayloadOrNote(res->payload);
      item["worker"] = res->author;
      item["ms"] = static_cast<double>(res->created_ns - t.entry.created_ns) / 1e6;
      workers.insert(res->author);
      agg.results.push_back(res->id);
      ++agg.done;
    } else {
      ++agg.dead_lettered;
    }
    json failures = json::array();
    std::string reason;
    ErrorsOf(pool, t.entry.id, &failures, &reason, &agg.errors);
    if (!reason.empty()) item["error"] = reason;
    if (info->state == TaskState::kDeadLettered)
      dead.push_back({{"index", t.index}, {"id", item["id"]}, {"task", t.entry.id},
                      {"error", reason}});
    if (!failures.empty()) item["failures"] = failures;
    list.push_back(std::move(item));
  }
  for (; next_index < req.tasks; ++next_index)
    add_lost(LostItem(next_index, std::nullopt, std::nullopt, kTaskLost));
  agg.document = {
      {"request", {{"id", req.id}, {"source", req.source}, {"split", SplitModeName(req.split)},
                   {"tasks", req.tasks}}},
      {"tasks", std::move(list)},
      {"summary", {{"tasks", req.tasks}, {"done", agg.done},
                   {"dead_lettered", agg.dead_lettered},
                   {"lost", agg.lost},
                   {"retries", retries},
                   {"workers", workers.size()},
                   {"wall_ms", static_cast<double>(wall_ns) / 1e6},
                   {"dead_lettered_tasks", std::move(dead)},
                   {"lost_tasks", std::move(lost)}}}};
  return agg;
}

}  // namespace slate::supervisor
