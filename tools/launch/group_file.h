// A group described in a file (slate-launch run|start --group FILE): its
// supervisors and its workers, each group of workers with a handler of its
// own. TOML when the name ends in .toml, JSON otherwise; one schema:
//
//   supervisors = 2                  # 1 to 3: one leads, the others stand by
//   [[workers]]                      # 1 or more groups, 1 to 512 workers in all
//   count = 3
//   capabilities = ["stats"]         # what the group's workers can take
//   exec = "python3 agents/stats.py" # or handler = "echo", serve = "...", python = "mod:fn"
//   shell = false
//   validate = "python3 agents/check.py"
//
//   [[children]]                     # sub-supervisors: a tree of at most 3 levels
//   capability = "backend"           # the parent's tasks it takes; names its team
//                                    # (unique in the tree, up to 27 characters)
//   decompose = "..."                # its task to subtasks (JSON Lines), optional
//   synthesize = "..."               # the subtasks' results to the task's, optional
//   workers, children                # as above (workers, children or both)
//
// Everything is checked before anything starts; an error names the file
// and the key ("group.toml: workers[1].count: ...").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slate/status.h"
#include "worker_args.h"

namespace slate::launch {

struct WorkerGroupSpec {
  uint32_t count = 1;
  std::vector<std::string> capabilities;
  WorkerFlags flags;  // handler, exec, shell, validate, python
};

// The workers as flags describe them (run and start): `workers` with
// `capabilities`, plus one group for each "N:cap1,cap2" of --worker-group,
// all with `flags`. 1 to 512 workers in all.
Result<std::vector<WorkerGroupSpec>> WorkerGroupsFromFlags(
    uint32_t workers, const std::vector<std::string>& capabilities,
    const std::vector<std::string>& worker_specs, const WorkerFlags& flags);

// One supervisor of the tree with what it leads: the top one, or a
// sub-supervisor (a child) that takes its parent's tasks that require
// `capability`.
struct SupervisorNode {
  std::string capability;  // "" at the top
  std::string decompose;
  std::string synthesize;
  uint32_t supervisors = 1;
  std::vector<WorkerGroupSpec> workers;
  std::vector<SupervisorNode> children;
};

// The most levels of supervisors a tree may have: each level adds latency
// and loses information on the way up.
inline constexpr int kMaxTreeLevels = 3;

Result<SupervisorNode> ReadGroupFile(const std::string& path);
// The same from text already read; `path` names it in errors and decides
// the format.
Result<SupervisorNode> ParseGroupFile(const std::string& path, const std::string& text);

// Levels of supervisors: 1 for a group without children.
int TreeLevels(const SupervisorNode& node);

// A sub-supervisor of the tree and its team, as the launcher starts them:
// the team is named by the capability it takes from its parent's team.
struct TeamSpec {
  std::string team;
  std::string parent;  // "" for the top level
  std::string decompose;
  std::string synthesize;
  std::vector<WorkerGroupSpec> workers;
  std::string path;  // "children[0].children[1]": where the file has it
};
// --supervisor-arg must not repeat a flag the launcher passes itself
// (`set_by_launch`, names without dashes): slate-supervisor would refuse
// it only once the group is up.
Status CheckSupervisorArgs(const std::vector<std::string>& args,
                           const std::vector<std::string>& set_by_launch);

// Every sub-supervisor of the tree, parents before their children.
std::vector<TeamSpec> Teams(const SupervisorNode& top);

// The command line of a team's sub-supervisor (slate-supervisor --team):
// `tuning` holds the flags it shares with the top supervisor (--policy,
// --max-retries ...). It serves until the group stops; restarted when it
// dies, it resumes its team's sub-requests from the pool.
std::vector<std::string> TeamSupervisorArgv(const std::string& bin, const TeamSpec& t,
                                            const std::vector<std::string>& tuning);

}  // namespace slate::launch
