// Agents: the registered members of a group (workers, supervisor, coordinator).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slate/task.h"

namespace slate {

inline constexpr int kMaxCapabilities = 8;
inline constexpr int kMaxAgentNameBytes = 64;
inline constexpr int kMaxTeamNameBytes = 27;

enum class AgentRole : uint32_t {
  kWorker = 0,       // claims and runs tasks
  kSupervisor = 1,   // a dispatcher: its queue is a backlog it hands out;
                     // it may hold any task, whatever it requires
  kCoordinator = 2,  // watches; holds no tasks
  // A sub-supervisor's member in its parent's team (supervision trees): a
  // worker that takes only tasks that require one of its capabilities
  // (its team's name), and runs each as a sub-request of its team.
  kSubSupervisor = 3,
};
// Whether it is handed tasks to run: a worker or a sub-supervisor.
inline bool TakesTasks(AgentRole r) { return r == AgentRole::kWorker || r == AgentRole::kSubSupervisor; }
const char* AgentRoleName(AgentRole r);

struct AgentSpec {
  std::string name;                       // unique among registered agents
  std::vector<std::string> capabilities;  // up to 8, each up to 32 bytes
  int32_t pid = 0;                        // 0: the calling process
  AgentRole role = AgentRole::kWorker;
  // The team it belongs to in a supervision tree: "" for the top level,
  // else the name of the capability its team's supervisor serves (up to
  // 27 characters). A supervisor hands work only to its own team.
  std::string team = {};
};

enum class Liveness {
  kAlive,  // process present and heartbeat fresh
  kStale,  // process present, heartbeat older than the threshold (hung?)
  kGone,   // process gone, or its pid now names another process
};
const char* LivenessName(Liveness l);

struct AgentInfo {
  AgentRef ref;
  std::string name;
  AgentRole role = AgentRole::kWorker;
  std::vector<std::string> capabilities;
  std::string team;          // "" for the top level
  int32_t pid = 0;
  uint64_t start_time = 0;   // process start, clock ticks since boot
  EntryId entry_id = 0;      // its entry in segment "agents"
  int64_t registered_ns = 0;
  int64_t heartbeat_age_ns = 0;
  Liveness liveness = Liveness::kAlive;
  uint32_t pending = 0;      // tasks waiting in its queue
  uint32_t running = 0;      // tasks it holds a claim on
  uint64_t done = 0;
  uint64_t failed = 0;
  uint32_t consecutive_failures = 0;
};

// The supervisors' lead (Pool::Leader).
struct LeaderInfo {
  uint64_t term = 0;     // 0: never held
  AgentRef holder;       // row 0: nobody holds it
  std::string name;      // the holder's
  int32_t pid = 0;
  uint64_t start_time = 0;    // its process's, clock ticks since boot
  int64_t expires_in_ns = 0;  // negative once expired
  bool alive = false;         // its process is alive
};

}  // namespace slate
