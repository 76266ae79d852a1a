#include "request/aggregate.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "slate/json_payload.h"
#include "slate/plan_task.h"

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

// What a task's records in "errors" add to its item: its failures (and
// attempts lost with their worker), oldest first, and why it was
// dead-lettered.
struct TaskErrors {
  json failures = json::array();
  std::string dead_reason;
  std::vector<EntryId> ids;  // resolved once the document is out
};

// One pass over "errors", a page at a time, grouped by task: O(errors) in
// memory and time, where a query per task was O(tasks x errors).
Result<std::unordered_map<TaskId, TaskErrors>> IndexErrors(Pool& pool, const RequestRecord& req) {
  std::unordered_map<TaskId, TaskErrors> by_task;
  Query q;
  q.segments = {segments::kErrors};
  q.after_id = req.entry_id;
  q.limit = 1024;
  for (;;) {
    auto page = pool.Find(q);
    if (!page.ok()) return page.status();
    for (const Entry& e : *page) {
      TaskId task = 0;
      bool dead = false;  // the record of how it ended without a result
      for (const auto& t : e.tags) {
        if (t.rfind("task:", 0) == 0) task = std::strtoull(t.c_str() + 5, nullptr, 10);
        dead = dead || t == "dead-letter" || t == "skipped" || t == "cancelled";
      }
      if (task == 0) continue;
      TaskErrors& te = by_task[task];
      te.ids.push_back(e.id);
      const json rec = PayloadOrNote(e.payload);
      if (dead && rec.is_object() && rec.contains("reason")) te.dead_reason = rec["reason"];
      const bool held = rec.is_object() && rec.value("kind", "") == "held";  // not an attempt
      if (!dead && !held && rec.is_object()) {  // a failure, or an attempt lost with its worker
        json f = {{"attempt", rec.value("attempt", 0)},
                  {"worker", rec.value("agent", "")},
                  {"error", rec.value("error", "")}};
        if (rec.value("kind", "") == "lost") f["lost"] = true;
        if (rec.value("kind", "") == "preempted") f["preempted"] = true;
        if (rec.contains("started_ns")) f["started_ns"] = rec["started_ns"];
        if (rec.contains("ended_ns")) f["ended_ns"] = rec["ended_ns"];
        te.failures.push_back(std::move(f));
      }
    }
    if (page->size() < q.limit) return by_task;
    q.after_id = page->back().id;
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

namespace {

// What pass one keeps per index: 24 bytes plus the user's id, if any.
struct TaskRef {
  TaskId id = 0;  // 0: no task in the pool has this index (lost)
  int64_t created_ns = 0;
  uint32_t iteration = 1;  // of its latest task
  std::string user_id;
  bool has_user_id = false;
};

// Pass one: the request's tasks by index, read a page at a time. A line's
// latest task (the highest id) stands for it; the earlier iterations and
// the validations go to *others, to be released with it.
Result<std::vector<TaskRef>> IndexTasks(Pool& pool, const RequestRecord& req,
                                        std::vector<TaskId>* others) {
  std::vector<TaskRef> refs(req.tasks);
  Query q;
  q.segments = {segments::kTasks};
  q.all_tags = {"req:" + req.id};
  q.after_id = req.entry_id;
  q.with_payload = false;
  q.limit = 4096;
  for (;;) {
    auto page = pool.Find(q);
    if (!page.ok()) return page.status();
    for (const Entry& e : *page) {
      bool placed = false;
      for (const auto& t : e.tags) {
        if (t.rfind("i:", 0) != 0) continue;
        const uint64_t index = std::strtoull(t.c_str() + 2, nullptr, 10);
        if (index >= refs.size()) break;
        TaskRef& r = refs[index];
        if (r.id != 0) others->push_back(r.id);  // ids ascend: an earlier iteration
        r.id = e.id;
        r.created_ns = e.created_ns;
        r.iteration = 1;
        for (const auto& u : e.tags) {
          if (u.rfind("id:", 0) == 0) r.user_id = u.substr(3), r.has_user_id = true;
          if (u.rfind("it:", 0) == 0)
            r.iteration = static_cast<uint32_t>(std::strtoul(u.c_str() + 3, nullptr, 10));
        }
        placed = true;
        break;
      }
      if (!placed) others->push_back(e.id);  // a validation
    }
    if (page->size() < q.limit) return refs;
    q.after_id = page->back().id;
  }
}

// Indents every line after the first by `by` spaces: a value dumped on its
// own, placed inside the document. JSON strings never hold a raw newline.
std::string Nested(const std::string& text, size_t by) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    out += c;
    if (c == '\n') out.append(by, ' ');
  }
  return out;
}

// The feedback rounds a line's latest task was run with: their iteration
// and text (each round's result is in the pool; the output keeps the last).
json FeedbackOf(Pool& pool, TaskId task) {
  auto e = pool.Read(task);
  if (!e.ok()) return json::array();
  auto stub = DecodePlanTask(e->payload);
  if (!stub.ok()) return json::array();
  json rounds = json::array();
  for (const auto& r : stub->feedback) {
    json round = {{"iteration", r["iteration"]}, {"feedback", r.value("feedback", "")}};
    if (r.contains("by")) round["by"] = r["by"];
    rounds.push_back(std::move(round));
  }
  return rounds;
}

// Members slate-launch reported crash-looping while the request ran
// (restarter.h): each with the longest streak of crashes it reached.
json CrashLooping(Pool& pool, int64_t since_ns) {
  Query q;
  q.segments = {segments::kConflicts};
  q.all_tags = {"crash_loop"};
  q.limit = 0;
  std::map<std::string, uint64_t> worst;
  if (auto found = pool.Find(q); found.ok())
    for (const Entry& e : *found) {
      if (e.created_ns < since_ns) continue;
      const json rec = PayloadOrNote(e.payload);
      if (!rec.is_object() || !rec.contains("member")) continue;
      uint64_t& n = worst[rec["member"].get<std::string>()];
      n = std::max<uint64_t>(n, rec.value("crashes", uint64_t{0}));
    }
  json out = json::array();
  for (const auto& [member, crashes] : worst)
    out.push_back({{"member", member}, {"crashes_in_a_row", crashes}});
  return out;
}

// What the earlier iterations and the validations leave: released with the
// request, their results marked aggregated, their records resolved.
void Settle(Pool& pool, const std::vector<TaskId>& others,
            const std::unordered_map<TaskId, TaskErrors>& errors, Aggregate* agg) {
  for (TaskId t : others) {
    agg->tasks.push_back(t);
    if (auto info = pool.GetTask(t); info.ok() && info->state == TaskState::kDone)
      agg->results.push_back(info->result_id);
    if (auto found = errors.find(t); found != errors.end())
      agg->errors.insert(agg->errors.end(), found->second.ids.begin(), found->second.ids.end());
  }
}

}  // namespace

Result<Aggregate> WriteAggregate(Pool& pool, const RequestRecord& req, int64_t wall_ns,
                                 std::ostream& out) {
  std::vector<TaskId> others;
  auto refs = IndexTasks(pool, req, &others);
  if (!refs.ok()) return refs.status();
  Aggregate agg;
  auto errors = IndexErrors(pool, req);
  if (!errors.ok()) return errors.status();
  std::set<std::string> workers;
  json dead = json::array();
  json lost = json::array();
  json failed_by;  // the task whose exhaustion failed the request
  uint64_t retries = 0, preempted = 0;
  const json request = {{"id", req.id}, {"source", req.source},
                        {"split", SplitModeName(req.split)}, {"tasks", req.tasks}};
  // The layout nlohmann's dump(2) gives the whole document, written a task
  // at a time: memory holds ids, never the document.
  out << "{\n  \"request\": " << Nested(JsonText(request, 2), 2) << ",\n  \"tasks\": ";
  out << (req.tasks == 0 ? "[]" : "[\n");
  uint64_t written = 0;
  auto emit = [&](const json& item) {
    out << (written++ == 0 ? "    " : ",\n    ") << Nested(JsonText(item, 2), 4);
  };
  auto emit_lost = [&](const json& item) {
    lost.push_back({{"index", item["index"]}, {"id", item["id"]}, {"task", item["task"]},
                    {"error", item["error"]}});
    emit(item);
    ++agg.lost;
  };
  for (uint64_t index = 0; index < refs->size(); ++index) {
    const TaskRef& t = (*refs)[index];
    const std::optional<std::string> user_id =
        t.has_user_id ? std::optional<std::string>(t.user_id) : std::nullopt;
    auto info = t.id == 0 ? Result<TaskInfo>(Status{StatusCode::kNotFound, ""})
                          : pool.GetTask(t.id);
    // A supervisor whose term ended reports nothing: its reads are refused
    // too, and each would otherwise be taken for a lost task.
    if (!info.ok() && info.status().code() == StatusCode::kStaleTerm) return info.status();
    if (!info.ok()) {
      emit_lost(LostItem(index, user_id, t.id ? std::optional<TaskId>(t.id) : std::nullopt,
                         kTaskLost));
      continue;
    }
    json item = {{"index", index},
                 {"id", user_id ? json(*user_id) : json(nullptr)},
                 {"task", t.id},
                 {"status", TaskStateName(info->state)},
                 {"attempts", info->attempts},
                 // the runs it had; a line's last task posted when it ran
                 // out has run only if a person retried it
                 {"iterations", info->attempts > 0 ? t.iteration : t.iteration - 1}};
    if (t.iteration > 1) item["feedback"] = FeedbackOf(pool, t.id);
    agg.tasks.push_back(t.id);
    if (info->state == TaskState::kDone) {
      auto res = pool.Read(info->result_id);
      if (!res.ok() && res.status().code() == StatusCode::kStaleTerm) return res.status();
      if (!res.ok()) {
        emit_lost(LostItem(index, user_id, t.id, kResultLost));
        continue;
      }
      item["result"] = PayloadOrNote(res->payload);
      item["worker"] = res->author;
      const ResultTimes took = TimesOf(*res, t.created_ns);
      item["ms"] = took.ms;
      if (took.run_ms) {
        item["queued_ms"] = *took.queued_ms;
        item["run_ms"] = *took.run_ms;
      }
      workers.insert(res->author);
      agg.results.push_back(res->id);
      ++agg.done;
    } else if (info->state == TaskState::kSkipped) {
      ++agg.skipped;
    } else if (info->state == TaskState::kCancelled) {
      ++agg.cancelled;
    } else {
      ++agg.dead_lettered;
    }
    const auto found = errors->find(t.id);
    const TaskErrors none;
    const TaskErrors& te = found == errors->end() ? none : found->second;
    // A preempted attempt is not a retry: it is counted on its own.
    const auto took = static_cast<uint64_t>(std::count_if(
        te.failures.begin(), te.failures.end(),
        [](const json& f) { return f.value("preempted", false); }));
    preempted += took;
    retries += info->attempts > 1 + took ? info->attempts - 1 - took : 0;
    agg.errors.insert(agg.errors.end(), te.ids.begin(), te.ids.end());
    if (!te.dead_reason.empty()) item["error"] = te.dead_reason;
    if (info->state == TaskState::kDeadLettered)
      dead.push_back(
          {{"index", index}, {"id", item["id"]}, {"task", t.id}, {"error", te.dead_reason}});
    if (!te.failures.empty()) item["failures"] = te.failures;
    if (req.failed_by != 0 && t.id == req.failed_by)
      failed_by = {{"index", index}, {"id", item["id"]}, {"task", t.id},
                   {"error", te.dead_reason}};
    emit(item);
  }
  Settle(pool, others, *errors, &agg);
  agg.summary = {{"tasks", req.tasks}, {"done", agg.done},
                 {"dead_lettered", agg.dead_lettered},
                 {"skipped", agg.skipped},
                 {"cancelled", agg.cancelled},
                 {"lost", agg.lost},
                 {"retries", retries},
                 {"preempted", preempted},
                 {"workers", workers.size()},
                 {"wall_ms", static_cast<double>(wall_ns) / 1e6},
                 {"dead_lettered_tasks", std::move(dead)},
                 {"lost_tasks", std::move(lost)}};
  if (!failed_by.is_null()) agg.summary["failed_by"] = std::move(failed_by);
  if (json looping = CrashLooping(pool, req.started_ns); !looping.empty())
    agg.summary["crash_looping"] = std::move(looping);
  out << (req.tasks == 0 ? "" : "\n  ]") << ",\n  \"summary\": " << Nested(JsonText(agg.summary, 2), 2)
      << "\n}";
  agg.request = request;
  if (!out) return Status{StatusCode::kIoError, "cannot write the request's result"};
  return agg;
}

}  // namespace slate::supervisor
