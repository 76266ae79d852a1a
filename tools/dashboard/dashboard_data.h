// What the dashboard shows, as JSON, read from a pool attached read-only:
// every read is of a private copy of the region (Pool::SetSnapshotMaxAge),
// so none takes the pool's lock or slows the group. Lists are filtered,
// sorted and cut to a page here, never sent whole to the browser.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "slate/pool.h"

namespace slate::dashboard {

using nlohmann::json;

// Throughput over time: the pool's count of done tasks, sampled.
class History {
 public:
  void Add(int64_t at_ns, uint64_t done_total);
  json ToJson() const;  // [{"t": unix seconds, "done": n, "per_s": rate}]

 private:
  static constexpr size_t kSamples = 300;
  mutable std::mutex mu_;
  std::deque<std::pair<int64_t, uint64_t>> samples_;
};

struct TaskQuery {
  std::string state;    // a state name, "" for any
  std::string worker;   // the agent that holds or last ran it
  std::string tag;      // an exact tag
  std::string request;  // a request id
  std::string sort = "id";  // id, state, attempts, created
  bool descending = false;
  uint64_t page = 1;
  uint64_t per_page = 50;  // at most 500
};

// Each returns the JSON document of one endpoint, or a Status: kNotFound
// for a missing task or request, kInvalidArgument for a bad parameter.
Result<json> Overview(Pool& pool, const History& history);
Result<json> Workers(Pool& pool, const json& members);  // members: the keeper's state file
Result<json> Tasks(Pool& pool, const TaskQuery& q);
Result<json> TaskDetail(Pool& pool, TaskId id);
// Records of one kind, newest first, a page at a time: dead letters (tag
// "dead-letter" in errors) or conflicts (every entry in conflicts).
Result<json> DeadLetters(Pool& pool, uint64_t page, uint64_t per_page);
Result<json> Conflicts(Pool& pool, uint64_t page, uint64_t per_page);
Result<json> Held(Pool& pool);

// A payload cut to `max_chars` of its JSON text, with a flag when cut.
json Preview(const json& value, size_t max_chars = 2000);

}  // namespace slate::dashboard
