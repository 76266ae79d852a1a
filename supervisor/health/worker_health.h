// What the supervisor knows about its workers' health, and what it does:
//  - gone (process dead): its running and queued tasks return to the backlog
//    (attempts already counted) and its row is freed;
//  - hung (heartbeat older than hung_after): same, but the row stays; it gets
//    no work until it heartbeats again, and any late result is refused;
//  - expired lease: that task returns to the backlog;
//  - circuit breaker: breaker_failures consecutive failures take a worker
//    out of rotation for breaker_cooldown, then it comes back on probation
//    (one task at a time) until a success closes the breaker.
// The pool records every running task taken back in "errors" (tags "lost",
// "task:<id>"), so a dead letter can show its whole history.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "schedule/delegator.h"
#include "slate/pool.h"

namespace slate::supervisor {

struct HealthConfig {
  uint32_t hung_after_ms = 5000;
  uint32_t breaker_failures = 3;
  uint32_t breaker_cooldown_ms = 5000;
  // The team it looks after (agent.h): its workers, its dead supervisors
  // and their leases; other teams' are their own supervisors' to handle.
  std::string team;
};

class WorkerHealth {
 public:
  WorkerHealth(const HealthConfig& cfg, Pool& pool, AgentRef me)
      : cfg_(cfg), pool_(pool), me_(me) {}

  // Takes work back from gone and hung workers and from expired leases.
  Status Sweep();
  // The workers that may get tasks now, with their loads and limits.
  std::vector<WorkerView> Rotation();
  // Whether a live worker the circuit breaker keeps out of rotation (as of
  // the last Rotation()) could take a task requiring `cap`: such a task
  // waits for it, and is not one that no worker can take.
  bool AnyResting(const std::string& cap) const;
  size_t resting() const { return resting_.size(); }
  // The names of the live workers that could take a task requiring `cap`,
  // in rotation or resting: the workers delegation counts. Refreshes the
  // rotation.
  std::set<std::string> Able(const std::string& cap);

 private:
  struct Breaker {
    bool open = false;
    bool probation = false;
    int64_t closed_at_ns = 0;  // end of the cool-down
    uint64_t failed_then = 0;  // failures counted when probation began
  };
  Status TakeBack(const AgentInfo& a, const std::string& why, bool running_only);
  bool UpdateBreaker(const AgentInfo& a, WorkerView* view);
  void PublishBreaker(const AgentInfo& a, const char* state);

  const HealthConfig& cfg_;
  Pool& pool_;
  AgentRef me_;
  std::set<std::string> hung_;  // "name/generation" currently known hung
  std::map<std::string, Breaker> breakers_;  // by "name/generation"
  std::vector<WorkerView> resting_;  // out of rotation at the last Rotation()
};

}  // namespace slate::supervisor
