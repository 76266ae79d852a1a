// Reading a request: the tasks it holds, validated in full before anything
// runs. Errors name the file, the line (for jsonl and lines) and the reason.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/status.h"

namespace slate::supervisor {

enum class SplitMode { kJsonLines, kLines, kFiles };
Result<SplitMode> ParseSplitMode(const std::string& s);
const char* SplitModeName(SplitMode m);

// What happens to a task whose retries or iterations run out.
enum class OnExhausted : uint8_t { kDeadLetter, kReview, kFailRequest };
Result<OnExhausted> ParseOnExhausted(const std::string& s);
const char* OnExhaustedName(OnExhausted e);  // dead-letter, review, fail-request

struct TaskDef {
  nlohmann::json payload;
  std::optional<std::string> user_id;  // jsonl "id", echoed in the output
  int priority = 0;
  std::string requires_cap;
  std::optional<uint32_t> max_retries;  // unset: the supervisor's default
  uint32_t timeout_ms = 0;
  int64_t deadline_ns = 0;  // wall clock, 0: none
  float importance = 0.5f;  // of its result, in a dependent's context budget
  std::vector<std::string> depends_on;  // ids of other lines of the request
  bool validate = true;  // false: its results skip the request's validation
  bool preemptible = true;  // false: never stopped for more urgent work
  std::optional<OnExhausted> on_exhausted;  // unset: the request's
  size_t line = 0;  // 1-based line of its file (jsonl and lines), for messages
};

// True when any line depends on another: the request is then a plan
// (plan_graph.h), and its tasks carry stubs (slate/plan_task.h).
bool IsPlan(const std::vector<TaskDef>& defs);

// jsonl: one object a line with "payload" and optional "id", "priority",
//        "requires", "max_retries", "timeout_ms", "deadline" (RFC 3339 UTC
//        such as 2026-11-21T18:00:00Z, or Unix milliseconds), "importance",
//        "depends_on" (ids of other lines), "validate" (false: skip the
//        request's validation), "on_exhausted" and "preemptible". Blank
//        lines are skipped;
//        unknown fields are errors. A request that uses depends_on is
//        checked as a graph (CheckPlanGraph) before it is returned.
// lines: each non-empty line is a task whose payload is the line's text.
// files: each regular file of the directory (sorted by name, not recursive)
//        is a task whose payload is {"path": "<absolute path>"}.
Result<std::vector<TaskDef>> ReadRequest(const std::string& path, SplitMode mode);

// The jsonl or lines split of a stream; name prefixes error messages.
Result<std::vector<TaskDef>> ReadRequestStream(const std::string& name, std::istream& in,
                                               SplitMode mode);

// Parses one jsonl line; exposed for tests and fuzzing.
Result<TaskDef> ParseTaskLine(const std::string& line);

}  // namespace slate::supervisor
