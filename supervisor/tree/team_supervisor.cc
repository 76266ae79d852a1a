#include "tree/team_supervisor.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "health/death_watch.h"
#include "schedule/group_run.h"
#include "tree/orphans.h"
#include "tree/sub_request_handler.h"
#include "tree/subtasks.h"
#include "worker_app.h"

namespace slate::supervisor {
namespace {

// Registers as the team's supervisor: the pool refuses it while another
// lives (Pool::RegisterAgent); the backlogs of those that died become
// this one's.
Result<AgentRef> JoinTeam(Pool& pool, const std::string& team) {
  auto me = pool.RegisterAgent({"supervisor-" + std::to_string(getpid()), {}, 0,
                                AgentRole::kSupervisor, team});
  if (!me.ok()) return me.status();
  auto agents = pool.ListAgents(std::chrono::hours(24));
  if (!agents.ok()) return agents.status();
  for (const AgentInfo& a : *agents) {
    if (a.role != AgentRole::kSupervisor || a.team != team || a.ref == *me) continue;
    spdlog::warn("team '{}': adopting the backlog of supervisor '{}' (pid {}), which died", team,
                 a.name, a.pid);
    if (Status s = pool.Deregister(a.ref, *me, "its team's supervisor died");
        !s.ok() && s.code() != StatusCode::kNotFound)
      return s;
  }
  return me;
}

}  // namespace

int RunTeamSupervisor(const SupervisorConfig& cfg, Policy policy, std::atomic<bool>& stop) {
  auto pool = Pool::Open(cfg.pool);
  if (!pool.ok()) {
    spdlog::error("cannot attach: {}", pool.status().message());
    return kExitInternal;
  }
  auto me = JoinTeam(**pool, cfg.team);
  if (!me.ok()) {
    spdlog::error("cannot lead team '{}': {}", cfg.team, me.status().message());
    return kExitInternal;
  }
  spdlog::info("leading team '{}' under {} in pool '{}'", cfg.team,
               cfg.parent_team.empty() ? "the top level" : "team '" + cfg.parent_team + "'",
               cfg.pool);
  Subtasks subtasks(**pool, cfg.decompose, /*timeout_ms=*/60'000);
  std::optional<DeathWatch> death_watch(std::in_place, **pool, *me, cfg.team);
  // Its member in the parent's team, on a thread of its own: a task it
  // takes waits there for its sub-request while this thread runs them.
  worker::WorkerConfig w;
  w.pool = cfg.pool;
  w.name = cfg.name.empty() ? cfg.team : cfg.name;
  w.capabilities = {cfg.team};
  w.team = cfg.parent_team;
  w.role = AgentRole::kSubSupervisor;
  w.heartbeat_ms = cfg.heartbeat_ms;
  w.handler.name = "sub-request";
  std::atomic<int> member_rc{0};
  std::thread member([&] {
    worker::WorkerApp app(w, std::make_unique<SubRequestHandler>(**pool, cfg, subtasks), &stop);
    member_rc = app.Run();
    if (member_rc != 0) stop = true;  // it cannot take work: nothing to serve
  });
  // Sub-requests whose parent the level above gave up are cancelled.
  std::thread orphans([&] {
    while (!stop.load()) {
      if (auto n = CancelOrphans(**pool, cfg.team); !n.ok())
        spdlog::warn("team '{}': looking for orphaned sub-requests: {}", cfg.team,
                     n.status().message());
      for (int i = 0; i < 10 && !stop.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  GroupRun run(cfg, **pool, *me, policy, /*serve=*/true);
  run.SetTaskSource([&](const RequestRecord& req) { return subtasks.Of(req.parent); });
  int rc = run.Run(stop);
  stop = true;
  orphans.join();
  member.join();
  death_watch.reset();
  if (rc == kExitOk && member_rc != 0) rc = kExitInternal;
  return rc;
}

}  // namespace slate::supervisor
