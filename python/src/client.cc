#include "client.h"

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <filesystem>
#include <memory>
#include <thread>

#include "error.h"
#include "json_convert.h"
#include "request/request_reader.h"
#include "request/request_report.h"
#include "request/request_store.h"
#include "slate/clock.h"
#include "slate/entry_cursor.h"
#include "slate/json_payload.h"
#include "slate/pool.h"

namespace slate::python {

namespace py = pybind11;
using std::chrono::milliseconds;

namespace {

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) throw Error(what + ": " + r.status().message());
  return std::move(*r);
}

// True when no supervisor leads the pool, and none does half a second on
// (a supervisor being replaced leads again within moments).
bool GroupStopped(const Pool& pool) {
  auto lead = pool.Leader();
  if (lead.ok() && lead->alive) return false;
  std::this_thread::sleep_for(milliseconds(500));
  lead = pool.Leader();
  return !lead.ok() || !lead->alive;
}

}  // namespace

Client::Client(const std::string& pool) : name_(pool) {
  py::gil_scoped_release unlocked;
  pool_ = Must(Pool::Open(pool), "pool '" + pool + "'");
}

std::shared_ptr<Pool> Client::Attached() const {
  if (!pool_) throw Error("the client of pool '" + name_ + "' is closed");
  return pool_;
}

std::unique_ptr<ResultStream> Client::Results(const std::string& request_id, double timeout_s) {
  return std::make_unique<ResultStream>(Attached(), request_id, timeout_s);
}

py::object Client::Submit(const SubmitOptions& o) {
  if (o.priority < -128 || o.priority > 127)
    throw py::value_error("priority must be in -128..127, not " + std::to_string(o.priority));
  const auto split = Must(supervisor::ParseSplitMode(o.split), "split");
  std::error_code ec;
  const std::string source = std::filesystem::absolute(o.path, ec).lexically_normal().string();
  const std::shared_ptr<Pool> pool = Attached();
  std::string id;
  nlohmann::json doc;
  py::gil_scoped_release unlocked;  // no Python object is touched below
  {
    const auto defs = Must(supervisor::ReadRequest(source, split), "the request");
    if (!Must(pool->Leader(), "pool '" + name_ + "'").alive)
      throw Error("no supervisor leads pool '" + name_ + "' (slate-launch start)");
    supervisor::RequestShape shape = supervisor::ShapeOf(defs, {});
    shape.priority = o.priority;
    id = Must(supervisor::CreateRequest(*pool, source, split, defs.size(), "", shape), "submit")
             .id;
  }
  if (o.wait) {
    Query q;
    q.segments = {segments::kResults};
    q.all_tags = {"final", "req:" + id};
    q.after_id = supervisor::RecordIdOf(id);
    const int64_t until = o.timeout_s > 0 ? NowMonoNs() + static_cast<int64_t>(o.timeout_s * 1e9)
                                          : INT64_MAX;
    for (;;) {
      auto done = pool->Wait(q, milliseconds(200));
      if (done.ok() && !done->empty()) {
        doc = Must(PayloadToJson(done->front().payload), "the result");
        break;
      }
      if (NowMonoNs() > until)
        throw Error("request " + id + " did not end within " + std::to_string(o.timeout_s) +
                    " s; it goes on");
      if (GroupStopped(*pool))
        throw Error("the group on pool '" + name_ + "' stopped before request " + id +
                    " ended");
    }
    if (doc.contains("error")) throw Error(doc["error"].get<std::string>());
  }
  py::gil_scoped_acquire locked;
  if (!o.wait) return py::str(id);
  return ToPython(doc);
}

struct ResultStream::State {
  std::shared_ptr<Pool> pool;
  std::string id;
  int64_t until = INT64_MAX;
  std::optional<EntryCursor> results;  // once the tasks are known
  // The request's tasks by id; empty until it is posted, and for plans
  // (their items come with the document).
  struct Line {
    uint64_t index = 0;
    std::optional<std::string> id;
    int64_t posted_ns = 0;
  };
  std::map<TaskId, Line> tasks;
  std::set<uint64_t> given;  // input indexes
  std::deque<nlohmann::json> ready;
  bool ended = false;

  // Reads the request's tasks once it is posted (a plain request only).
  void LearnTasks() {
    if (results) return;
    auto rec = supervisor::LoadRequest(*pool, std::stoull(id));
    if (!rec.ok() || !rec->posted || rec->plan) return;
    auto list = supervisor::RequestTasks(*pool, *rec, false);
    if (!list.ok()) return;
    for (const auto& t : *list) tasks[t.entry.id] = {t.index, t.user_id, t.entry.created_ns};
    Query q;
    q.segments = {segments::kResults};
    q.limit = 0;
    results.emplace(*pool, q, rec->entry_id);
  }

  // Queues what ended since the last look; true when anything did.
  bool Look() {
    if (auto final_entry = supervisor::FinalEntryOf(*pool, id)) {
      auto doc = PayloadToJson(final_entry->payload);
      if (doc.ok() && doc->contains("tasks"))
        for (const auto& item : (*doc)["tasks"])
          if (!given.count(item.value("index", uint64_t{0}))) {
            nlohmann::json out = {{"index", item["index"]}, {"id", item["id"]},
                                  {"task", item["task"]}, {"status", item["status"]}};
            for (const char* k : {"result", "error", "worker", "ms", "queued_ms", "run_ms"})
              if (item.contains(k)) out[k] = item[k];
            ready.push_back(std::move(out));
          }
      ended = true;
      return true;
    }
    LearnTasks();
    if (!results) return false;
    auto found = results->Next();
    if (!found.ok()) return false;
    bool any = false;
    for (const Entry& e : *found) {
      auto it = tasks.find(e.task_id);
      if (it == tasks.end() || given.count(it->second.index)) continue;
      const Line& line = it->second;
      auto payload = PayloadToJson(e.payload);
      nlohmann::json item = {{"index", line.index},
                             {"id", line.id ? nlohmann::json(*line.id) : nullptr},
                             {"task", e.task_id},
                             {"status", "done"},
                             {"result", payload.ok() ? *payload : nlohmann::json(nullptr)},
                             {"worker", e.author}};
      const ResultTimes took = TimesOf(e, line.posted_ns);
      item["ms"] = took.ms;
      if (took.run_ms) {
        item["queued_ms"] = *took.queued_ms;
        item["run_ms"] = *took.run_ms;
      }
      ready.push_back(std::move(item));
      given.insert(line.index);
      any = true;
    }
    return any;
  }
};

ResultStream::ResultStream(std::shared_ptr<Pool> pool, const std::string& request_id,
                           double timeout_s)
    : s_(std::make_unique<State>()) {
  if (request_id.empty() || request_id.find_first_not_of("0123456789") != std::string::npos)
    throw py::value_error("a request id is a number, not '" + request_id + "'");
  s_->pool = std::move(pool);
  s_->id = request_id;
  if (!supervisor::LoadRequest(*s_->pool, std::stoull(request_id)).ok() &&
      !supervisor::FinalEntryOf(*s_->pool, request_id))
    throw Error("pool '" + s_->pool->name() + "' holds no request " + request_id);
  if (timeout_s > 0) s_->until = NowMonoNs() + static_cast<int64_t>(timeout_s * 1e9);
}

ResultStream::~ResultStream() = default;

py::object ResultStream::Next() {
  {
    py::gil_scoped_release unlocked;
    Query changes;
    changes.segments = {segments::kResults};
    changes.limit = 1;
    changes.with_payload = false;
    while (s_->ready.empty() && !s_->ended) {
      auto st = s_->pool->Stats();
      if (!st.ok()) throw Error(st.status().message());
      changes.after_id = st->next_id - 1;
      if (s_->Look()) continue;
      if (NowMonoNs() > s_->until) throw Error("request " + s_->id + " did not end in time");
      if (GroupStopped(*s_->pool))
        throw Error("the group stopped before request " + s_->id + " ended");
      (void)s_->pool->Wait(changes, milliseconds(200));
    }
  }
  if (s_->ready.empty()) throw py::stop_iteration();
  nlohmann::json item = std::move(s_->ready.front());
  s_->ready.pop_front();
  return ToPython(item);
}

}  // namespace slate::python
