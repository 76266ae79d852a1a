// Which live worker gets a task next. Pure logic over a snapshot of the
// workers; the supervisor applies the choice with Pool::Reassign.
//
// round-robin: the capable workers (those with the task's capability), in
//   row order, take turns; the task goes to the first from the one in turn
//   that holds fewer than max_pending, and the turn moves past it. A
//   worker is never left idle while a task it could take waits, and M
//   equal tasks on N equal workers split about evenly.
//   A retry goes to another capable worker with room if there is one.
// least-loaded: the capable worker with the fewest pending plus running
//   tasks and room left, preferring one that did not run the last attempt.
#pragma once

#include <cstdint>
#include <climits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slate/agent.h"
#include "slate/status.h"

namespace slate::supervisor {

enum class Policy { kRoundRobin, kLeastLoaded };
Result<Policy> ParsePolicy(const std::string& s);

struct WorkerView {
  AgentRef ref;
  std::string name;
  std::vector<std::string> capabilities;
  uint32_t load = 0;  // pending + running
  uint32_t max_load = UINT32_MAX;  // lower than max_pending on probation
  bool only_required = false;  // a sub-supervisor: only tasks that require its capability
};

class Delegator {
 public:
  Delegator(Policy policy, uint32_t max_pending)
      : policy_(policy), max_pending_(max_pending) {}

  struct Choice {
    std::optional<size_t> worker;  // index into the snapshot
    bool any_capable = false;      // false: no live worker could ever take it
  };
  // avoid_row: the row that ran the task last (0: none), for retries.
  Choice Choose(const std::vector<WorkerView>& workers, const std::string& cap,
                uint32_t avoid_row);
  // Whether any worker could take one more task now.
  bool AnyRoom(const std::vector<WorkerView>& workers) const;
  // Records an assignment made from Choose(): the load rises, the turn moves.
  void Assigned(std::vector<WorkerView>& workers, size_t index, const std::string& cap);

 private:
  bool HasRoom(const WorkerView& w) const;

  Policy policy_;
  uint32_t max_pending_;
  std::map<std::string, uint64_t> turn_;  // per capability
  uint64_t chosen_turn_ = 0;  // round-robin: the turn after the last choice
};

bool HasCapability(const WorkerView& w, const std::string& cap);

}  // namespace slate::supervisor
