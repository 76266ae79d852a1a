#include "request/request_report.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "request/aggregate.h"
#include "slate/internal/crash_point.h"
#include "slate/json_payload.h"
#include "supervisor_app.h"

namespace slate::supervisor {
namespace {

// This process's peak resident set, for the summary line.
double PeakRssMiB() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Larger documents are never read back to be stored whole.
constexpr uintmax_t kWholeDocumentBytes = 8u << 20;
// Documents of requests up to this many tasks are built in memory when no
// output file wants them: at most that many results of the payload limit
// (1 MiB by default), as much as a document read back above.
constexpr uint64_t kHeldDocumentTasks = 8;

// Where the document is streamed before it is renamed into place: beside
// the output (same file system), or a temporary file when there is none
// or its folder is not writable.
std::string OpenDraft(const RequestRecord& req, const std::string& output, std::ofstream* f) {
  const std::string pid = std::to_string(getpid());
  if (!output.empty()) {
    const std::string beside = output + ".tmp." + pid;
    f->open(beside, std::ios::trunc);
    if (*f) return beside;
    spdlog::error("cannot write {}; the result goes to standard output only", output);
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string other = std::string(tmp && *tmp ? tmp : "/tmp") + "/slate-result-" +
                            req.id + "-" + pid + ".json";
  f->clear();
  f->open(other, std::ios::trunc);
  return other;
}

// A final entry's tags: a sub-request's name its team too.
std::vector<std::string> FinalTags(const RequestRecord& req) {
  std::vector<std::string> tags = {"final", "req:" + req.id};
  if (!req.team.empty()) tags.push_back(kTeamTag + req.team);
  return tags;
}

// The document as written to text_path, if it is small enough to hold.
nlohmann::json ReadDocument(const std::string& text_path) {
  std::error_code ec;
  if (std::filesystem::file_size(text_path, ec) > kWholeDocumentBytes || ec)
    return nlohmann::json::value_t::discarded;
  std::ifstream text(text_path);
  return nlohmann::json::parse(text, nullptr, false);
}

// The document in segment "results", tags "final" and "req:<id>"; just its
// request and summary when the whole (`doc`, discarded when too large to
// hold) does not fit the pool's payload limit.
Status WriteFinalEntry(Pool& pool, const RequestRecord& req, const Aggregate& agg,
                       const nlohmann::json& doc) {
  NewEntry e;
  e.segment = segments::kResults;
  e.tags = FinalTags(req);
  e.importance = 1.0f;
  e.author = "supervisor";
  std::string why = "the document is larger than the pool's payload limit";
  if (!doc.is_discarded()) {
    e.payload = JsonToPayload(doc);
    auto w = pool.Write(e);
    if (w.ok() || w.status().code() == StatusCode::kStaleTerm) return w.status();
    why = w.status().message();
  }
  e.payload = JsonToPayload({{"request", agg.request},
                             {"summary", agg.summary},
                             {"note", "tasks omitted: " + why}});
  auto w = pool.Write(e);
  return w.status();
}

}  // namespace

int ReportRequest(Pool& pool, const RequestRecord& req, const std::string& default_output,
                  int64_t wall_ns) {
  // Order matters when this process may die at any point (and be
  // restarted to resume): the output file first, then the final entry,
  // and only then is the request marked finished. A successor that finds
  // the request unfinished builds the same document again; one that finds
  // it finished leaves the output alone. A large document is streamed
  // through a file, never held: a million-task request costs its ids, not
  // its text; a small one with no output file (a service's) stays in
  // memory.
  internal::MaybeCrash("supervisor", "report");
  const std::string& output = req.output.empty() ? default_output : req.output;
  const bool held = output.empty() && req.tasks <= kHeldDocumentTasks;
  std::ostringstream held_text;
  std::ofstream draft_file;
  const std::string draft = held ? "" : OpenDraft(req, output, &draft_file);
  if (!held && !draft_file) {
    spdlog::error("cannot write {}", draft);
    return kExitInternal;
  }
  std::ostream& text_out = held ? static_cast<std::ostream&>(held_text) : draft_file;
  auto agg = WriteAggregate(pool, req, wall_ns, text_out);
  text_out << "\n";
  if (!held) draft_file.close();
  if (agg.ok() && !text_out) agg = Status{StatusCode::kIoError, "cannot write " + draft};
  if (!agg.ok()) {
    std::remove(draft.c_str());
    LogFatal(agg.status());
    return kExitInternal;
  }
  // A supervisor whose term ended while it read the aggregate publishes
  // nothing: its successor reports the request (the check is fenced).
  if (auto lead = pool.Leader(); !lead.ok()) {
    std::remove(draft.c_str());
    LogFatal(lead.status());
    return kExitInternal;
  }
  std::string text_path = draft;
  if (!output.empty() && draft.rfind(output, 0) == 0) {
    if (std::rename(draft.c_str(), output.c_str()) == 0) text_path = output;
    else spdlog::error("cannot rename {} to {}", draft, output);
  }
  if (!FinalEntryOf(pool, req.id))
    if (Status s = WriteFinalEntry(
            pool, req, *agg,
            held ? nlohmann::json::parse(held_text.view(), nullptr, false)
                 : ReadDocument(text_path));
        !s.ok()) {
      if (s.code() == StatusCode::kStaleTerm) {
        LogFatal(s);
        return kExitInternal;
      }
      spdlog::error("cannot write the final entry: {}", s.message());
    }
  if (held) {
    std::cout << held_text.view();
  } else {
    std::ifstream text(text_path);
    std::cout << text.rdbuf();
  }
  std::cout.flush();
  if (!held && text_path == draft) std::remove(draft.c_str());
  // Best effort, each; a term that ended stops them all (the successor
  // does them again, as the request is not marked finished).
  auto stale = [](const Status& s) { return s.code() == StatusCode::kStaleTerm; };
  bool deposed = false;
  for (size_t i = 0; i < agg->results.size() && !deposed; ++i)
    deposed = stale(pool.MarkAggregated(agg->results[i]));
  for (size_t i = 0; i < agg->errors.size() && !deposed; ++i)
    deposed = stale(pool.Resolve(agg->errors[i]));
  for (size_t i = 0; i < agg->tasks.size() && !deposed; ++i)
    deposed = stale(pool.Release(agg->tasks[i]));
  if (deposed) {
    LogFatal(Status{StatusCode::kStaleTerm, "request " + req.id + " was reported; its "
                                            "successor finishes it"});
    return kExitInternal;
  }
  if (Status s = FinishRequest(pool, req); !s.ok())
    spdlog::error("cannot mark request {} finished: {}", req.id, s.message());
  const auto& s = agg->summary;
  std::string ended;  // only the endings that happened
  if (agg->skipped) ended += std::to_string(agg->skipped) + " skipped, ";
  if (agg->cancelled) ended += std::to_string(agg->cancelled) + " cancelled, ";
  if (agg->lost) ended += std::to_string(agg->lost) + " LOST, ";
  if (const uint64_t p = s["preempted"].get<uint64_t>())
    ended += std::to_string(p) + " preempted, ";
  std::fprintf(stderr, "slate: request %s: %llu tasks, %llu done, %llu dead-lettered, "
               "%s%llu retries, %llu workers, %.2f s, supervisor peak RSS %.1f MiB\n",
               req.id.c_str(), static_cast<unsigned long long>(s["tasks"].get<uint64_t>()),
               static_cast<unsigned long long>(agg->done),
               static_cast<unsigned long long>(agg->dead_lettered), ended.c_str(),
               static_cast<unsigned long long>(s["retries"].get<uint64_t>()),
               static_cast<unsigned long long>(s["workers"].get<uint64_t>()),
               static_cast<double>(wall_ns) / 1e9, PeakRssMiB());
  // The failed_by task is reported below, once.
  const uint64_t failed_task =
      s.contains("failed_by") ? s["failed_by"]["task"].get<uint64_t>() : 0;
  for (const auto& d : s["dead_lettered_tasks"])
    if (d["task"].get<uint64_t>() != failed_task)
      std::fprintf(stderr, "slate: dead-lettered: task %s%s: %s\n", DumpJson(d["index"]).c_str(),
                   d["id"].is_null() ? "" : (" (" + d["id"].get<std::string>() + ")").c_str(),
                   d["error"].get<std::string>().c_str());
  for (const auto& d : s["lost_tasks"])
    std::fprintf(stderr, "slate: lost: task %s%s: %s\n", DumpJson(d["index"]).c_str(),
                 d["id"].is_null() ? "" : (" (" + d["id"].get<std::string>() + ")").c_str(),
                 d["error"].get<std::string>().c_str());
  if (s.contains("failed_by"))
    std::fprintf(stderr, "slate: the request failed at task %s%s: %s\n",
                 DumpJson(s["failed_by"]["index"]).c_str(),
                 s["failed_by"]["id"].is_null()
                     ? ""
                     : (" (" + s["failed_by"]["id"].get<std::string>() + ")").c_str(),
                 s["failed_by"]["error"].get<std::string>().c_str());
  return ExitStatusOf(agg->summary);
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return {StatusCode::kIoError, "cannot write " + tmp};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return {StatusCode::kIoError, "cannot rename " + tmp + " to " + path};
  return Status::Ok();
}

std::optional<Entry> FinalEntryOf(Pool& pool, const std::string& request_id) {
  Query q;
  q.segments = {segments::kResults};
  q.all_tags = {"final"};
  if (!request_id.empty()) {
    q.all_tags.push_back("req:" + request_id);
    q.after_id = RecordIdOf(request_id);
  }
  q.limit = 0;
  auto found = pool.Find(q);
  if (!found.ok()) return std::nullopt;
  for (auto it = found->rbegin(); it != found->rend(); ++it) {
    if (!request_id.empty()) return *it;
    if (TeamOf(*it).empty()) return *it;  // any: of the top level's requests
  }
  return std::nullopt;
}

void AbandonRequest(Pool& pool, const RequestRecord& req, const std::string& why) {
  spdlog::error("request {} abandoned: {}", req.id, why);
  nlohmann::ordered_json doc = {
      {"request", {{"id", req.id}, {"source", req.source}, {"tasks", req.tasks}}},
      {"error", why},
      {"summary", {{"tasks", req.tasks}, {"done", 0}, {"dead_lettered", req.tasks}}}};
  if (!req.output.empty()) (void)WriteFileAtomically(req.output, DumpJson(doc, 2) + "\n");
  NewEntry e;
  e.segment = segments::kResults;
  e.tags = FinalTags(req);
  e.importance = 1.0f;
  e.author = "supervisor";
  e.payload = JsonToPayload(doc);
  (void)pool.Write(e);
  (void)FinishRequest(pool, req);
}

}  // namespace slate::supervisor
