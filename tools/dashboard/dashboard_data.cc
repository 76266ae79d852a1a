#include "dashboard_data.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "operator_actions.h"
#include "slate/clock.h"
#include "slate/group_snapshot.h"
#include "slate/json_payload.h"
#include "slate/plan_task.h"

namespace slate::dashboard {
namespace {

constexpr uint64_t kMaxPerPage = 500;
// A plan task's dependents are found among its request's tasks, up to so
// many of them.
constexpr size_t kDependentsScan = 20000;

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

json PayloadJson(const std::vector<uint8_t>& payload) {
  auto j = PayloadToJson(payload);
  return j.ok() ? *j : json("(" + std::to_string(payload.size()) + " bytes, not a payload)");
}

std::unordered_map<uint32_t, std::string> AgentNames(Pool& pool) {
  std::unordered_map<uint32_t, std::string> names;
  if (auto agents = pool.ListAgents(std::chrono::milliseconds(5000)); agents.ok())
    for (const auto& a : *agents) names[a.ref.row] = a.name;
  return names;
}

std::string NameOf(const std::unordered_map<uint32_t, std::string>& names, AgentRef ref) {
  if (ref.is_shared()) return "";
  auto it = names.find(ref.row);
  return it == names.end() ? "agent row " + std::to_string(ref.row) : it->second;
}

Result<TaskState> StateNamed(const std::string& name) {
  for (int s = 1; s < kTaskStateCount; ++s)
    if (name == TaskStateName(static_cast<TaskState>(s))) return static_cast<TaskState>(s);
  std::string known;
  for (int s = 1; s < kTaskStateCount; ++s)
    known += std::string(known.empty() ? "" : ", ") + TaskStateName(static_cast<TaskState>(s));
  return Status{StatusCode::kInvalidArgument, "unknown state '" + name + "' (" + known + ")"};
}

// Newest first, one page of a segment's entries carrying `tag` ("" any).
Result<json> RecordPage(Pool& pool, const std::string& segment, const std::string& tag,
                        uint64_t page, uint64_t per_page) {
  if (page == 0 || per_page == 0 || per_page > kMaxPerPage)
    return Status{StatusCode::kInvalidArgument,
                  "page counts from 1; per_page is 1 to " + std::to_string(kMaxPerPage)};
  Query q;
  q.segments = {segment};
  if (!tag.empty()) q.all_tags = {tag};
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return found.status();
  const uint64_t total = found->size();
  json items = json::array();
  for (uint64_t k = (page - 1) * per_page; k < total && items.size() < per_page; ++k) {
    const Entry& e = (*found)[total - 1 - k];
    const json rec = PayloadJson(e.payload);
    const auto task = TagValue(e, "task:");
    items.push_back({{"id", e.id},
                     {"at", Seconds(e.created_ns)},
                     {"tags", e.tags},
                     {"author", e.author},
                     {"task", task ? json(std::strtoull(task->c_str(), nullptr, 10)) : json(nullptr)},
                     {"record", Preview(rec)}});
  }
  return json{{"total", total}, {"page", page}, {"per_page", per_page}, {"items", items}};
}

}  // namespace

void History::Add(int64_t at_ns, uint64_t done_total) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.emplace_back(at_ns, done_total);
  while (samples_.size() > kSamples) samples_.pop_front();
}

json History::ToJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  json out = json::array();
  for (size_t i = 0; i < samples_.size(); ++i) {
    double rate = 0;
    if (i > 0 && samples_[i].first > samples_[i - 1].first &&
        samples_[i].second >= samples_[i - 1].second)
      rate = static_cast<double>(samples_[i].second - samples_[i - 1].second) /
             Seconds(samples_[i].first - samples_[i - 1].first);
    out.push_back({{"t", Seconds(samples_[i].first)}, {"done", samples_[i].second}, {"per_s", rate}});
  }
  return out;
}

json Preview(const json& value, size_t max_chars) {
  std::string text = JsonText(value);
  if (text.size() <= max_chars) return {{"text", text}, {"cut", false}, {"bytes", text.size()}};
  const size_t bytes = text.size();
  text.resize(max_chars);
  // Never leave half a UTF-8 sequence at the end.
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80)) text.pop_back();
  return {{"text", text}, {"cut", true}, {"bytes", bytes}};
}

Result<json> Overview(Pool& pool, const History& history) {
  auto snap = TakeGroupSnapshot(pool, 10);
  if (!snap.ok()) return snap.status();
  json doc = json::parse(SnapshotToJson(*snap).dump());
  doc["history"] = history.ToJson();
  doc["taken_s"] = Seconds(snap->taken_ns);
  return doc;
}

Result<json> Workers(Pool& pool, const json& members) {
  auto snap = TakeGroupSnapshot(pool, 0);
  if (!snap.ok()) return snap.status();
  auto lead = pool.Leader();
  std::map<std::string, uint32_t> restarts;
  if (members.is_array())
    for (const auto& m : members)
      if (m.is_object() && m.contains("name")) restarts[m["name"]] = m.value("restarts", 0u);
  json rows = json::array();
  const int64_t now = NowRealNs();
  for (const auto& w : snap->agents) {
    const AgentInfo& a = w.info;
    json row = {{"name", a.name},
                {"role", AgentRoleName(a.role)},
                {"team", a.team},
                {"pid", a.pid},
                {"liveness", LivenessName(a.liveness)},
                {"heartbeat_age_ms", static_cast<double>(a.heartbeat_age_ns) / 1e6},
                {"up_s", a.registered_ns > 0 ? Seconds(now - a.registered_ns) : 0.0},
                {"capabilities", a.capabilities},
                {"current_task", w.current_task ? json(*w.current_task) : json(nullptr)},
                {"breaker", w.breaker},
                {"pending", a.pending},
                {"running", a.running},
                {"done", a.done},
                {"failed", a.failed},
                {"leads", lead.ok() && lead->holder == a.ref && !a.ref.is_shared()}};
    // A member the keeper restarted keeps its name (a worker takes over
    // its dead predecessor's).
    auto it = restarts.find(a.name);
    if (it == restarts.end() && a.role == AgentRole::kSupervisor) it = restarts.find("supervisor");
    if (it == restarts.end() && a.role == AgentRole::kCoordinator) it = restarts.find("coordinator");
    row["restarts"] = it == restarts.end() ? json(nullptr) : json(it->second);
    rows.push_back(std::move(row));
  }
  json out = {{"workers", rows}};
  if (lead.ok())
    out["lead"] = {{"term", lead->term}, {"holder", lead->name}, {"alive", lead->alive},
                   {"expires_in_s", Seconds(lead->expires_in_ns)}};
  return out;
}

Result<json> Tasks(Pool& pool, const TaskQuery& q) {
  if (q.page == 0 || q.per_page == 0 || q.per_page > kMaxPerPage)
    return Status{StatusCode::kInvalidArgument,
                  "page counts from 1; per_page is 1 to " + std::to_string(kMaxPerPage)};
  if (q.sort != "id" && q.sort != "state" && q.sort != "attempts" && q.sort != "created")
    return Status{StatusCode::kInvalidArgument,
                  "unknown sort '" + q.sort + "' (id, state, attempts, created)"};
  std::optional<TaskState> state;
  if (!q.state.empty()) {
    auto s = StateNamed(q.state);
    if (!s.ok()) return s.status();
    state = *s;
  }
  Query find;
  find.segments = {segments::kTasks};
  find.with_payload = false;
  find.limit = 0;
  if (!q.request.empty()) {
    if (q.request.find_first_not_of("0123456789") != std::string::npos)
      return Status{StatusCode::kInvalidArgument, "a request id is a number, not '" + q.request + "'"};
    find.all_tags.push_back("req:" + q.request);
    find.after_id = std::stoull(q.request);  // its tasks come after its record
  }
  if (!q.tag.empty()) find.all_tags.push_back(q.tag);
  auto entries = pool.Find(find);
  if (!entries.ok()) return entries.status();
  std::vector<TaskId> ids;
  ids.reserve(entries->size());
  for (const Entry& e : *entries) ids.push_back(e.id);
  auto infos = pool.GetTasks(ids);
  if (!infos.ok()) return infos.status();
  const auto names = AgentNames(pool);
  struct Row {
    const Entry* e;
    const TaskInfo* t;
    std::string worker;
  };
  std::vector<Row> rows;
  for (size_t i = 0; i < entries->size() && i < infos->size(); ++i) {
    const TaskInfo& t = (*infos)[i];
    if (state && t.state != *state) continue;
    const AgentRef who = t.state == TaskState::kPending || t.state == TaskState::kRunning
                             ? t.assignee
                             : t.last_agent;
    std::string worker = NameOf(names, who);
    if (!q.worker.empty() && worker != q.worker) continue;
    rows.push_back({&(*entries)[i], &t, std::move(worker)});
  }
  auto key = [&q](const Row& r) -> std::pair<int64_t, TaskId> {
    if (q.sort == "state") return {static_cast<int64_t>(r.t->state), r.e->id};
    if (q.sort == "attempts") return {r.t->attempts, r.e->id};
    if (q.sort == "created") return {r.e->created_ns, r.e->id};
    return {0, r.e->id};
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    return q.descending ? key(b) < key(a) : key(a) < key(b);
  });
  json items = json::array();
  for (uint64_t k = (q.page - 1) * q.per_page; k < rows.size() && items.size() < q.per_page; ++k) {
    const Row& r = rows[k];
    items.push_back({{"id", r.e->id},
                     {"state", TaskStateName(r.t->state)},
                     {"request", TagValue(*r.e, "req:").value_or("")},
                     {"index", TagValue(*r.e, "i:").value_or("")},
                     {"line_id", TagValue(*r.e, "id:").value_or("")},
                     {"worker", r.worker},
                     {"attempts", r.t->attempts},
                     {"priority", r.t->priority},
                     {"created", Seconds(r.e->created_ns)},
                     {"tags", r.e->tags}});
  }
  return json{{"total", rows.size()}, {"page", q.page}, {"per_page", q.per_page},
              {"pages", (rows.size() + q.per_page - 1) / q.per_page}, {"items", items}};
}

Result<json> TaskDetail(Pool& pool, TaskId id) {
  auto info = pool.GetTask(id);
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound || info.status().code() == StatusCode::kInvalidArgument)
      return Status{StatusCode::kNotFound, "no task " + std::to_string(id)};
    return info.status();
  }
  auto entry = pool.Read(id);
  if (!entry.ok()) return entry.status();
  const auto names = AgentNames(pool);
  const TaskInfo& t = *info;
  json doc = {{"id", id},
              {"state", TaskStateName(t.state)},
              {"request", TagValue(*entry, "req:").value_or("")},
              {"index", TagValue(*entry, "i:").value_or("")},
              {"line_id", TagValue(*entry, "id:").value_or("")},
              {"tags", entry->tags},
              {"priority", t.priority},
              {"requires", t.requires_cap},
              {"attempts", t.attempts},
              {"max_retries", t.max_retries},
              {"timeout_ms", t.timeout_ms},
              {"worker", NameOf(names, t.state == TaskState::kPending ||
                                               t.state == TaskState::kRunning
                                           ? t.assignee
                                           : t.last_agent)},
              {"created", Seconds(entry->created_ns)},
              {"checkpointed", t.checkpointed}};
  // Its history: every record in "errors" about it (failures, losses,
  // preemptions, holds, its end), oldest first.
  json history = json::array();
  for (const json& r : ops::TaskRecords(pool, id)) history.push_back(r);
  doc["history"] = history;
  std::optional<PlanTask> stub;
  if (auto s = DecodePlanTask(entry->payload); s.ok()) stub = *s;
  doc["payload"] = Preview(stub ? stub->payload : PayloadJson(entry->payload));
  if (t.state == TaskState::kDone && t.result_id != 0)
    if (auto result = pool.Read(t.result_id); result.ok()) {
      doc["result"] = Preview(PayloadJson(result->payload));
      const ResultTimes took = TimesOf(*result, entry->created_ns);
      doc["ms"] = took.ms;
      if (took.run_ms) {
        doc["queued_ms"] = *took.queued_ms;
        doc["run_ms"] = *took.run_ms;
      }
    }
  if (!stub) return doc;
  doc["plan"] = true;
  doc["iteration"] = stub->iteration;
  json feedback = json::array();
  for (const auto& round : stub->feedback) {
    json r = {{"iteration", round.value("iteration", 0)},
              {"feedback", round.value("feedback", "")}};
    if (round.contains("by")) r["by"] = round["by"];
    feedback.push_back(std::move(r));
  }
  doc["feedback"] = feedback;
  // Its dependencies: lines it waits for, or the results it was given.
  json deps = json::array();
  for (uint32_t line : stub->after) deps.push_back({{"line", line}});
  for (EntryId result : stub->deps)
    if (auto r = pool.Read(result); r.ok())
      deps.push_back(
          {{"task", r->task_id}, {"line", TagValue(*r, "i:").value_or("")}, {"result", result}});
  doc["dependencies"] = deps;
  // Its dependents: the request's tasks whose stub names its line or one
  // of its results.
  const std::string index = TagValue(*entry, "i:").value_or("");
  json dependents = json::array();
  Query q;
  q.segments = {segments::kTasks};
  q.all_tags = {"req:" + TagValue(*entry, "req:").value_or(""), kPlanTag};
  q.limit = kDependentsScan;
  if (auto others = pool.Find(q); others.ok() && !index.empty()) {
    const uint32_t line = static_cast<uint32_t>(std::stoul(index));
    for (const Entry& o : *others) {
      auto os = DecodePlanTask(o.payload);
      if (!os.ok() || o.id == id) continue;
      bool depends = std::find(os->after.begin(), os->after.end(), line) != os->after.end();
      if (!depends && t.result_id)
        depends = std::find(os->deps.begin(), os->deps.end(), t.result_id) != os->deps.end();
      if (depends) dependents.push_back({{"task", o.id}, {"line", TagValue(o, "i:").value_or("")}});
    }
    doc["dependents_scanned"] = others->size();
  }
  doc["dependents"] = dependents;
  return doc;
}

Result<json> DeadLetters(Pool& pool, uint64_t page, uint64_t per_page) {
  return RecordPage(pool, segments::kErrors, "dead-letter", page, per_page);
}

Result<json> Conflicts(Pool& pool, uint64_t page, uint64_t per_page) {
  return RecordPage(pool, segments::kConflicts, "", page, per_page);
}

Result<json> Held(Pool& pool) {
  auto held = ops::HeldTasks(pool);
  if (!held.ok()) return held.status();
  json items = json::array();
  for (const Entry& e : *held) {
    json d = ops::DescribeHeld(pool, e);
    d["payload"] = Preview(d.value("payload", json(nullptr)));
    if (d.contains("last_result")) d["last_result"] = Preview(d["last_result"]);
    items.push_back(std::move(d));
  }
  return json{{"items", items}};
}

}  // namespace slate::dashboard
