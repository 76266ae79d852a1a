// The subtasks a sub-supervisor makes of a task it takes (supervision
// trees): the task's own "subtasks" (an array of request lines, each as a
// line of a JSON Lines request: {"payload": ..., "id": ..., ...}), else the
// lines its --decompose command prints with the task's payload on stdin.
// Checked in full, as a request file is, before anything is posted.
//
// Kept per task for the life of the process, so that the supervisor posts
// what the handler read; after a restart they are made again from the
// task in the pool (a decompose command should then print the same lines:
// indexes already posted are not posted twice).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "request/request_reader.h"
#include "slate/pool.h"

namespace slate::supervisor {

class Subtasks {
 public:
  Subtasks(Pool& pool, std::string decompose, uint32_t timeout_ms)
      : pool_(pool), decompose_(std::move(decompose)), timeout_ms_(timeout_ms) {}

  // Of a task with this payload; kept for Of(parent) below.
  Result<std::vector<TaskDef>> Make(TaskId parent, const nlohmann::json& payload);
  // Those made for `parent`, else made again from its entry in the pool.
  Result<std::vector<TaskDef>> Of(TaskId parent);

 private:
  Result<std::vector<TaskDef>> Decompose(TaskId parent, const nlohmann::json& payload);

  Pool& pool_;
  const std::string decompose_;
  const uint32_t timeout_ms_;
  std::mutex mu_;
  std::map<TaskId, std::vector<TaskDef>> made_;
};

}  // namespace slate::supervisor
