#include "slate/plan_task.h"

#include <algorithm>
#include <numeric>

#include "slate/json_payload.h"

namespace slate {
namespace {

using nlohmann::json;

Status NotAStub(const std::string& why) {
  return {StatusCode::kInvalidArgument, "not a plan task's payload: " + why};
}

std::optional<std::string> IdTag(const Entry& e) {
  for (const auto& t : e.tags)
    if (t.rfind("id:", 0) == 0) return t.substr(3);
  return std::nullopt;
}

// One dependency's place in the context.
struct Member {
  size_t order;  // in depends_on
  float importance;
  std::string key;
  json value;
  size_t bytes;  // "key":value, as the context's text holds it
};

}  // namespace

bool IsPlanTask(const Entry& task) {
  return std::find(task.tags.begin(), task.tags.end(), kPlanTag) != task.tags.end();
}

std::vector<uint8_t> EncodePlanTask(const PlanTask& t) {
  json j = {{"slate_plan", 1},
            {"id", t.id ? json(*t.id) : json(nullptr)},
            {"payload", t.payload},
            {"iteration", t.iteration},
            {"feedback", t.feedback},
            {"context_bytes", t.context_bytes}};
  if (!t.after.empty()) j["after"] = t.after;
  if (!t.deps.empty()) j["deps"] = t.deps;
  return JsonToPayload(j);
}

Result<PlanTask> DecodePlanTask(std::span<const uint8_t> payload) {
  auto j = PayloadToJson(payload);
  if (!j.ok()) return j.status();
  if (!j->is_object() || j->value("slate_plan", 0) != 1) return NotAStub("no \"slate_plan\": 1");
  try {
    PlanTask t;
    if ((*j)["id"].is_string()) t.id = (*j)["id"].get<std::string>();
    t.payload = (*j)["payload"];
    t.iteration = (*j)["iteration"].get<uint32_t>();
    t.feedback = (*j)["feedback"];
    t.context_bytes = (*j)["context_bytes"].get<uint64_t>();
    if (j->contains("after")) t.after = (*j)["after"].get<std::vector<uint32_t>>();
    if (j->contains("deps")) t.deps = (*j)["deps"].get<std::vector<EntryId>>();
    if (!t.feedback.is_array()) return NotAStub("\"feedback\" is not an array");
    return t;
  } catch (const std::exception& e) {
    return NotAStub(e.what());
  }
}

Result<json> BuildEnvelope(const Pool& pool, const PlanTask& t) {
  std::vector<Member> members;
  members.reserve(t.deps.size());
  for (size_t i = 0; i < t.deps.size(); ++i) {
    auto r = pool.Read(t.deps[i]);
    if (!r.ok())
      return Status{StatusCode::kNotFound, "the result of dependency " + std::to_string(i + 1) +
                                               " (entry " + std::to_string(t.deps[i]) +
                                               ") is gone from the pool: " +
                                               r.status().message()};
    auto value = PayloadToJson(r->payload);
    if (!value.ok()) return value.status();
    Member m{i, r->importance, IdTag(*r).value_or("#" + std::to_string(i)), std::move(*value), 0};
    m.bytes = JsonText(json(m.key)).size() + JsonText(m.value).size() + 2;  // ':' and ','
    members.push_back(std::move(m));
  }
  std::vector<size_t> rank(members.size());
  std::iota(rank.begin(), rank.end(), 0);
  std::stable_sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
    return members[a].importance > members[b].importance;
  });
  std::vector<bool> kept(members.size(), false);
  uint64_t used = 0;
  for (size_t k : rank) {
    if (used + members[k].bytes > t.context_bytes) break;
    used += members[k].bytes;
    kept[k] = true;
  }
  json context = json::object();
  json omitted = json::array();
  for (size_t i = 0; i < members.size(); ++i) {
    if (kept[i]) context[members[i].key] = std::move(members[i].value);
    else omitted.push_back(members[i].key);
  }
  json env = {{"id", t.id ? json(*t.id) : json(nullptr)},
              {"payload", t.payload},
              {"context", std::move(context)},
              {"feedback", t.feedback},
              {"iteration", t.iteration}};
  if (!omitted.empty()) env["context_omitted"] = std::move(omitted);
  return env;
}

std::vector<std::string> PlanResultTags(const PlanTask& t) {
  if (!t.id) return {};
  return {"id:" + *t.id};
}

}  // namespace slate
