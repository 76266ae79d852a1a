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

Result<Aggregate> BuildAggregate(Pool& pool, const RequestRecord& req, int64_t wall_ns) {
  auto tasks = RequestTasks(pool, req, false);
  if (!tasks.ok()) return tasks.status();
  Aggregate agg;
  json list = json::array();
  std::set<std::string> workers;
  json dead = json::array();
  uint64_t retries = 0;
  for (const RequestTask& t : *tasks) {
    auto info = pool.GetTask(t.entry.id);
    if (!info.ok()) return info.status();
    agg.tasks.push_back(t.entry.id);
    json item = {{"index", t.index},
                 {"id", t.user_id ? json(*t.user_id) : json(nullptr)},
                 {"task", t.entry.id},
                 {"status", TaskStateName(info->state)},
                 {"attempts", info->attempts}};
    retries += info->attempts > 1 ? info->attempts - 1 : 0;
    if (info->state == TaskState::kDone) {
      auto res = pool.Read(info->result_id);
      if (!res.ok()) return res.status();
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
  agg.document = {
      {"request", {{"id", req.id}, {"source", req.source}, {"split", SplitModeName(req.split)},
                   {"tasks", req.tasks}}},
      {"tasks", std::move(list)},
      {"summary", {{"tasks", tasks->size()}, {"done", agg.done},
                   {"dead_lettered", agg.dead_lettered},
                   {"retries", retries},
                   {"workers", workers.size()},
                   {"wall_ms", static_cast<double>(wall_ns) / 1e6},
                   {"dead_lettered_tasks", std::move(dead)}}}};
  return agg;
}

}  // namespace slate::supervisor
