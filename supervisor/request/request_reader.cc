#include "request/request_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "plan/plan_graph.h"
#include "slate/json_payload.h"
#include "slate/plan_task.h"
#include "slate/pool_options.h"
#include "slate/task.h"

namespace slate::supervisor {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxLineBytes = 16u << 20;

Status Bad(const std::string& why) { return {StatusCode::kInvalidArgument, why}; }

bool IsCapName(const std::string& s) {
  if (s.empty() || s.size() > kMaxRequiresBytes) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// Deadlines are times from 1970 to the end of year 9999 (and so fit int64_t
// nanoseconds, which end in 2262: later ones are clamped to that).
constexpr int64_t kMaxDeadlineMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
constexpr int64_t kMaxNs = INT64_MAX / 1'000'000 * 1'000'000;

int64_t MsToNs(int64_t ms) {
  return ms > kMaxNs / 1'000'000 ? kMaxNs : ms * 1'000'000;
}

Result<int64_t> ParseDeadline(const json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t{kMaxDeadlineMs}
                               : v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxDeadlineMs)
      return Bad("\"deadline\" in Unix milliseconds must be in [0, " +
                 std::to_string(kMaxDeadlineMs) + "]");
    return MsToNs(v.get<int64_t>());
  }
  if (!v.is_string()) return Bad("\"deadline\" must be an RFC 3339 UTC time or Unix milliseconds");
  const std::string s = v;
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0')
    return Bad("\"deadline\" '" + s + "' is not of the form 2026-11-21T18:00:00Z");
  const int64_t secs = timegm(&tm);
  if (tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999 || secs < 0)
    return Bad("\"deadline\" '" + s + "' must be between 1970 and 9999");
  return MsToNs(secs * 1000);
}

Result<uint32_t> NonNegative(const json& v, const char* field, uint64_t max) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
      static_cast<uint64_t>(v.get<int64_t>()) > max)
    return Bad(std::string("\"") + field + "\" must be an integer in [0, " +
               std::to_string(max) + "]");
  return static_cast<uint32_t>(v.get<int64_t>());
}

enum class LineRead { kLine, kEnd, kTooLong };

// The next line without its '\n', like getline, except that a line longer
// than kMaxLineBytes stops the read instead of being held: a 100 MB line
// costs 16 MiB of memory, not 100.
LineRead ReadLine(std::streambuf& buf, std::string* line) {
  line->clear();
  for (int c; (c = buf.sbumpc()) != std::char_traits<char>::eof();) {
    if (c == '\n') return LineRead::kLine;
    if (line->size() == kMaxLineBytes) return LineRead::kTooLong;
    line->push_back(static_cast<char>(c));
  }
  return line->empty() ? LineRead::kEnd : LineRead::kLine;
}

// Each line of in as a task, or the first error with its line number.
// to_task returns nullopt for a line that holds no task.
template <typename ToTask>
Result<std::vector<TaskDef>> ReadTaskLines(const std::string& path, std::istream& in,
                                           ToTask to_task) {
  std::vector<TaskDef> out;
  std::string line;
  for (size_t n = 1;; ++n) {
    const LineRead r = ReadLine(*in.rdbuf(), &line);
    if (r == LineRead::kEnd) break;
    const std::string where = path + ":" + std::to_string(n) + ": ";
    if (r == LineRead::kTooLong) return Bad(where + "line is longer than 16 MiB");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Result<std::optional<TaskDef>> t = to_task(line);
    if (!t.ok()) return Bad(where + t.status().message());
    if (!t->has_value()) continue;
    (*t)->line = n;
    out.push_back(std::move(**t));
  }
  return out;
}

// Every pool a request may run in takes payloads up to this size (msgpack).
const size_t kMaxPayloadBytes = PoolOptions{}.max_payload;

// A payload larger than a pool takes is refused here, before anything runs.
// msgpack is at most 9 bytes per 3 characters of JSON ("1.5" is a double),
// so only lines longer than a third of the limit need the encoding.
Status CheckPayloadSize(const TaskDef& t, size_t line_bytes) {
  if (line_bytes <= kMaxPayloadBytes / 3) return Status::Ok();
  const size_t n = JsonToPayload(t.payload).size();
  if (n <= kMaxPayloadBytes) return Status::Ok();
  return Bad("payload is " + std::to_string(n) + " bytes as msgpack; a task carries at most " +
             std::to_string(kMaxPayloadBytes));
}

Result<std::optional<TaskDef>> JsonLineTask(const std::string& line) {
  if (line.find_first_not_of(" \t") == std::string::npos) return std::optional<TaskDef>{};
  auto t = ParseTaskLine(line);
  if (!t.ok()) return t.status();
  if (Status s = CheckPayloadSize(*t, line.size()); !s.ok()) return s;
  return std::optional<TaskDef>(std::move(*t));
}

Result<std::optional<TaskDef>> TextLineTask(const std::string& line) {
  if (line.empty()) return std::optional<TaskDef>{};
  TaskDef t;
  t.payload = line;
  if (Status s = CheckPayloadSize(t, line.size()); !s.ok()) return s;
  return std::optional<TaskDef>(std::move(t));
}

Result<std::vector<TaskDef>> ReadFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) files.push_back(fs::absolute(e.path()));
  if (ec) return Bad(dir + ": cannot list the directory: " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<TaskDef> out;
  for (const auto& f : files) {
    TaskDef t;
    t.payload = {{"path", f.string()}};
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

Result<SplitMode> ParseSplitMode(const std::string& s) {
  if (s == "jsonl") return SplitMode::kJsonLines;
  if (s == "lines") return SplitMode::kLines;
  if (s == "files") return SplitMode::kFiles;
  return Bad("unknown split '" + s + "' (known: jsonl, lines, files)");
}

Result<OnExhausted> ParseOnExhausted(const std::string& s) {
  if (s == "dead-letter") return OnExhausted::kDeadLetter;
  if (s == "review") return OnExhausted::kReview;
  if (s == "fail-request") return OnExhausted::kFailRequest;
  return Bad("unknown on_exhausted '" + s + "' (known: dead-letter, review, fail-request)");
}

const char* OnExhaustedName(OnExhausted e) {
  switch (e) {
    case OnExhausted::kDeadLetter: return "dead-letter";
    case OnExhausted::kReview: return "review";
    case OnExhausted::kFailRequest: return "fail-request";
  }
  return "?";
}

const char* SplitModeName(SplitMode m) {
  switch (m) {
    case SplitMode::kJsonLines: return "jsonl";
    case SplitMode::kLines: return "lines";
    case SplitMode::kFiles: return "files";
  }
  return "?";
}

Result<TaskDef> ParseTaskLine(const std::string& line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("a task must be a JSON object");
  static const std::set<std::string> kKnown = {"payload",     "id",         "priority",
                                               "requires",    "max_retries", "timeout_ms",
                                               "deadline",    "importance", "depends_on",
                                               "validate",    "on_exhausted", "preemptible"};
  for (const auto& [k, v] : j.items())
    if (!kKnown.count(k)) return Bad("unknown field \"" + k + "\"");
  if (!j.contains("payload")) return Bad("missing field \"payload\"");
  TaskDef t;
  t.payload = j["payload"];
  if (j.contains("id")) {
    if (j["id"].is_string()) t.user_id = j["id"].get<std::string>();
    else if (j["id"].is_number_integer()) t.user_id = std::to_string(j["id"].get<int64_t>());
    else return Bad("\"id\" must be a string or an integer");
    // It travels as a tag "id:<id>": at most 64 bytes in all.
    if (t.user_id->empty() || t.user_id->size() > 61)
      return Bad("\"id\" must be 1 to 61 characters");
  }
  if (j.contains("priority")) {
    const json& p = j["priority"];
    if (!p.is_number_integer() || p.get<int64_t>() < kMinPriority ||
        p.get<int64_t>() > kMaxPriority)
      return Bad("\"priority\" must be an integer in [-128, 127]");
    t.priority = static_cast<int>(p.get<int64_t>());
  }
  if (j.contains("requires")) {
    if (!j["requires"].is_string() || !IsCapName(j["requires"]))
      return Bad("\"requires\" must be a capability name: 1 to 32 of [A-Za-z0-9._-]");
    t.requires_cap = j["requires"];
  }
  if (j.contains("max_retries")) {
    auto v = NonNegative(j["max_retries"], "max_retries", kMaxRetriesLimit);
    if (!v.ok()) return v.status();
    t.max_retries = *v;
  }
  if (j.contains("timeout_ms")) {
    auto v = NonNegative(j["timeout_ms"], "timeout_ms", 86'400'000);
    if (!v.ok()) return v.status();
    t.timeout_ms = *v;
  }
  if (j.contains("deadline")) {
    auto d = ParseDeadline(j["deadline"]);
    if (!d.ok()) return d.status();
    t.deadline_ns = *d;
  }
  if (j.contains("importance")) {
    const json& v = j["importance"];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1)
      return Bad("\"importance\" must be a number in [0, 1]");
    t.importance = v.get<float>();
  }
  if (j.contains("depends_on")) {
    const json& v = j["depends_on"];
    if (!v.is_array()) return Bad("\"depends_on\" must be an array of ids");
    if (v.size() > kMaxDependencies)
      return Bad("\"depends_on\" names " + std::to_string(v.size()) + " ids; at most " +
                 std::to_string(kMaxDependencies));
    for (const json& d : v) {
      if (d.is_string()) t.depends_on.push_back(d.get<std::string>());
      else if (d.is_number_integer()) t.depends_on.push_back(std::to_string(d.get<int64_t>()));
      else return Bad("\"depends_on\" must hold ids: strings or integers");
    }
  }
  if (j.contains("validate")) {
    if (!j["validate"].is_boolean()) return Bad("\"validate\" must be true or false");
    t.validate = j["validate"].get<bool>();
  }
  if (j.contains("preemptible")) {
    if (!j["preemptible"].is_boolean()) return Bad("\"preemptible\" must be true or false");
    t.preemptible = j["preemptible"].get<bool>();
  }
  if (j.contains("on_exhausted")) {
    if (!j["on_exhausted"].is_string())
      return Bad("\"on_exhausted\" must be dead-letter, review or fail-request");
    auto e = ParseOnExhausted(j["on_exhausted"].get<std::string>());
    if (!e.ok()) return e.status();
    t.on_exhausted = *e;
  }
  return t;
}

bool IsPlan(const std::vector<TaskDef>& defs) {
  return std::any_of(defs.begin(), defs.end(),
                     [](const TaskDef& d) { return !d.depends_on.empty(); });
}

Result<std::vector<TaskDef>> ReadRequestStream(const std::string& name, std::istream& in,
                                               SplitMode mode) {
  if (mode == SplitMode::kFiles) return Bad(name + ": split 'files' needs a directory");
  auto defs = mode == SplitMode::kJsonLines ? ReadTaskLines(name, in, JsonLineTask)
                                            : ReadTaskLines(name, in, TextLineTask);
  if (defs.ok() && IsPlan(*defs))
    if (Status s = CheckPlanGraph(name, *defs); !s.ok()) return s;
  return defs;
}

Result<std::vector<TaskDef>> ReadRequest(const std::string& path, SplitMode mode) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Bad(path + ": no such file or directory");
  Result<std::vector<TaskDef>> tasks = std::vector<TaskDef>{};
  if (mode == SplitMode::kFiles) {
    if (!S_ISDIR(st.st_mode)) return Bad(path + ": split 'files' needs a directory");
    tasks = ReadFiles(path);
  } else {
    if (S_ISDIR(st.st_mode))
      return Bad(path + ": is a directory (use --split files)");
    std::ifstream in(path, std::ios::binary);
    if (!in) return Bad(path + ": cannot open for reading");
    tasks = ReadRequestStream(path, in, mode);
  }
  if (tasks.ok() && tasks->empty()) return Bad(path + ": holds no tasks");
  return tasks;
}

}  // namespace slate::supervisor
