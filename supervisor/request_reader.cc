#include "request_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

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

Result<int64_t> ParseDeadline(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>() * 1'000'000;
  if (!v.is_string()) return Bad("\"deadline\" must be an RFC 3339 UTC time or Unix milliseconds");
  const std::string s = v;
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0')
    return Bad("\"deadline\" '" + s + "' is not of the form 2026-11-21T18:00:00Z");
  return int64_t{timegm(&tm)} * 1'000'000'000;
}

Result<uint32_t> NonNegative(const json& v, const char* field, uint64_t max) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
      static_cast<uint64_t>(v.get<int64_t>()) > max)
    return Bad(std::string("\"") + field + "\" must be an integer in [0, " +
               std::to_string(max) + "]");
  return static_cast<uint32_t>(v.get<int64_t>());
}

Result<std::vector<TaskDef>> ReadJsonLines(const std::string& path, std::istream& in) {
  std::vector<TaskDef> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.size() > kMaxLineBytes)
      return Bad(path + ":" + std::to_string(n) + ": line is longer than 16 MiB");
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto t = ParseTaskLine(line);
    if (!t.ok()) return Bad(path + ":" + std::to_string(n) + ": " + t.status().message());
    out.push_back(std::move(*t));
  }
  return out;
}

Result<std::vector<TaskDef>> ReadLines(const std::string& path, std::istream& in) {
  std::vector<TaskDef> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > kMaxLineBytes)
      return Bad(path + ":" + std::to_string(n) + ": line is longer than 16 MiB");
    if (line.empty()) continue;
    TaskDef t;
    t.payload = line;
    out.push_back(std::move(t));
  }
  return out;
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
  static const std::set<std::string> kKnown = {"payload", "id", "priority", "requires",
                                               "max_retries", "timeout_ms", "deadline"};
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
  return t;
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
    tasks = mode == SplitMode::kJsonLines ? ReadJsonLines(path, in) : ReadLines(path, in);
  }
  if (tasks.ok() && tasks->empty()) return Bad(path + ": holds no tasks");
  return tasks;
}

}  // namespace slate::supervisor
