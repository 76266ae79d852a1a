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
  if (t.validates != 0) j["validates"] = t.validates;
  if (!t.exhausted.empty()) j["exhausted"] = t.exhausted;
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
    t.validates = j->value("validates", EntryId{0});
    t.exhausted = j->value("exhausted", "");
    if (!t.feedback.is_array()) return NotAStub("\"feedback\" is not an array");
    for (const json& round : t.feedback)
      if (!round.is_object() || !round.contains("iteration"))
        return NotAStub("a feedback round is not {\"iteration\", ...}");
    return t;
  } catch (const std::exception& e) {
    return NotAStub(e.what());
  }
}

namespace {

Result<json> ResultValue(const Pool& pool, EntryId id, const std::string& what) {
  auto r = pool.Read(id);
  if (!r.ok())
    return Status{StatusCode::kNotFound, what + " (entry " + std::to_string(id) +
                                             ") is gone from the pool: " + r.status().message()};
  auto value = PayloadToJson(r->payload);
  if (!value.ok()) return value.status();
  return std::move(*value);
}

}  // namespace

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
  json feedback = json::array();
  for (const json& round : t.feedback) {
    json r = {{"iteration", round["iteration"]}, {"feedback", round.value("feedback", "")}};
    if (round.contains("by")) r["by"] = round["by"];
    if (round.contains("result_id")) {
      auto value = ResultValue(pool, round["result_id"].get<EntryId>(),
                               "the result of iteration " + JsonText(round["iteration"]));
      if (!value.ok()) return value.status();
      r["result"] = std::move(*value);
    }
    feedback.push_back(std::move(r));
  }
  json env = {{"id", t.id ? json(*t.id) : json(nullptr)},
              {"payload", t.payload},
              {"context", std::move(context)},
              {"feedback", std::move(feedback)},
              {"iteration", t.iteration}};
  if (!omitted.empty()) env["context_omitted"] = std::move(omitted);
  if (t.validates != 0) {
    auto value = ResultValue(pool, t.validates, "the result to validate");
    if (!value.ok()) return value.status();
    env["result"] = std::move(*value);
  }
  return env;
}

std::vector<std::string> PlanResultTags(const PlanTask& t) {
  if (t.validates != 0) return {kValidateTag};
  if (!t.id) return {};
  return {"id:" + *t.id};
}

Result<Verdict> ParseVerdict(const json& printed) {
  auto bad = [](const std::string& why) {
    return Status{StatusCode::kInvalidArgument,
                  "the validator printed " + why +
                      "; it must print {\"ok\": true} or {\"ok\": false, \"feedback\": \"...\"}"};
  };
  if (!printed.is_object()) {
    std::string text = printed.is_string() ? printed.get<std::string>() : JsonText(printed);
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    return bad(printed.is_string() && printed.get<std::string>().empty() ? "nothing"
                                                                         : "'" + text + "'");
  }
  if (!printed.contains("ok") || !printed["ok"].is_boolean()) return bad("no boolean \"ok\"");
  Verdict v;
  v.ok = printed["ok"].get<bool>();
  if (printed.contains("feedback")) {
    if (!printed["feedback"].is_string()) return bad("a \"feedback\" that is not a string");
    v.feedback = printed["feedback"].get<std::string>();
  }
  if (!v.ok && v.feedback.empty()) return bad("{\"ok\": false} without feedback");
  return v;
}

json VerdictJson(const Verdict& v) {
  json j = {{"ok", v.ok}};
  if (!v.ok) j["feedback"] = v.feedback;
  return j;
}

}  // namespace slate
