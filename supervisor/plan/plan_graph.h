// A plan's edges by line index, checked before anything runs: every id a
// line depends on names another line of the same request, ids are unique,
// and the graph has no cycle. Errors name the file, the line and the ids.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "request/request_reader.h"
#include "slate/status.h"

namespace slate::supervisor {

class PlanGraph {
 public:
  // `name` prefixes messages (the request's file).
  static Result<PlanGraph> Build(const std::string& name, const std::vector<TaskDef>& defs);

  size_t size() const { return dep_start_.size() - 1; }
  // The lines line i depends on, in the order its depends_on names them.
  std::span<const uint32_t> DepsOf(size_t i) const {
    return {deps_.data() + dep_start_[i], deps_.data() + dep_start_[i + 1]};
  }

 private:
  std::vector<uint32_t> dep_start_;  // size() + 1 offsets into deps_
  std::vector<uint32_t> deps_;
};

Status CheckPlanGraph(const std::string& name, const std::vector<TaskDef>& defs);

}  // namespace slate::supervisor
