// Entries: the unit of the blackboard, and queries over them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slate {

using EntryId = uint64_t;  // monotonic per pool, never reused; 0 is "none"

inline constexpr int kMaxTags = 8;
inline constexpr int kMaxTagBytes = 64;
inline constexpr int kMaxAuthorBytes = 64;
inline constexpr int kMaxSegmentBytes = 32;

// Segments the group itself uses; users may add their own.
namespace segments {
inline constexpr const char* kTasks = "tasks";
inline constexpr const char* kResults = "results";
inline constexpr const char* kErrors = "errors";
inline constexpr const char* kProgress = "progress";
inline constexpr const char* kConflicts = "conflicts";
inline constexpr const char* kAgents = "agents";
inline constexpr const char* kCheckpoints = "checkpoints";  // a running task's saved progress
}  // namespace segments

struct NewEntry {
  std::string segment;               // [A-Za-z0-9._-], 1..32 bytes
  std::vector<std::string> tags;     // up to 8, each 1..64 bytes, no duplicates
  float importance = 0.5f;           // in [0, 1]
  std::string author;                // up to 64 bytes
  std::vector<uint8_t> payload;      // one msgpack object, or empty
  bool keep = false;                 // never evicted until Release(id)
};

struct Entry {
  EntryId id = 0;
  std::string segment;
  std::vector<std::string> tags;
  float importance = 0;
  std::string author;
  int64_t created_ns = 0;  // wall clock
  int64_t updated_ns = 0;  // wall clock
  std::vector<uint8_t> payload;
  bool live = false;       // true while the pool refuses to evict it
  EntryId task_id = 0;     // a task result: the task it completed
  int64_t run_ns = 0;      // a task result: its claim's run, claim to result
                           // (to 1 us below 35 min); 0: unknown
};

// The value of the entry's first tag that starts with prefix ("req:" gives
// "12" of "req:12"), or nothing when no tag does.
inline std::optional<std::string> TagValue(const Entry& e, const std::string& prefix) {
  for (const auto& t : e.tags)
    if (t.rfind(prefix, 0) == 0) return t.substr(prefix.size());
  return std::nullopt;
}

// A task's result's times, as the result document gives them: `ms` from
// the task's posting to its result, split at the claim that succeeded into
// queued (waiting, earlier attempts, backoff) and run; no split when the
// run time is unknown.
struct ResultTimes {
  double ms = 0;
  std::optional<double> queued_ms, run_ms;
};
inline ResultTimes TimesOf(const Entry& result, int64_t posted_ns) {
  const int64_t total_ns = result.created_ns - posted_ns;
  ResultTimes t{static_cast<double>(total_ns) / 1e6, std::nullopt, std::nullopt};
  if (result.run_ns > 0 && result.run_ns <= total_ns) {
    t.queued_ms = static_cast<double>(total_ns - result.run_ns) / 1e6;
    t.run_ms = static_cast<double>(result.run_ns) / 1e6;
  }
  return t;
}

// Fields left empty are kept.
struct EntryUpdate {
  std::optional<float> importance;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::vector<uint8_t>> payload;
};

enum class QueryOrder {
  kById,                    // ascending id: oldest first (cursor-friendly)
  kByImportanceThenRecency  // importance descending, then newest first
};

struct Query {
  std::vector<std::string> segments;  // empty: every segment
  std::vector<std::string> all_tags;  // entry must carry every one
  std::vector<std::string> any_tags;  // entry must carry at least one (if any)
  float min_importance = 0;
  std::string author;                 // empty: any author
  std::string exclude_author;         // empty: exclude nobody
  EntryId after_id = 0;               // only ids greater than this
  uint32_t limit = 100;               // 0: no limit
  QueryOrder order = QueryOrder::kById;
  bool with_payload = true;           // false: Entry::payload left empty
};

}  // namespace slate
