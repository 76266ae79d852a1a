#include "supervisor_app.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "request/aggregate.h"
#include "health/death_watch.h"
#include "lead/take_lead.h"
#include "tree/team_supervisor.h"
#include "schedule/delegator.h"
#include "schedule/group_run.h"
#include "request/request_report.h"
#include "request/request_store.h"
#include "slate/clock.h"
#include "slate/entry_cursor.h"
#include "slate/json_payload.h"
#include "slate/pool.h"
#include "slate/process_setup.h"

namespace slate::supervisor {
namespace {

using std::chrono::milliseconds;
using nlohmann::json;

// --serve: runs the requests submitted, side by side, and waits for more,
// until SIGTERM. Returns 0 after a clean stop.
int Serve(const SupervisorConfig& cfg, Pool& pool, AgentRef me, Policy policy,
          std::atomic<bool>& stop) {
  spdlog::info("serving requests on pool '{}'", cfg.pool);
  return GroupRun(cfg, pool, me, policy, /*serve=*/true).Run(stop);
}

// A sub-supervisor serves its parent's tasks: it reads no request itself.
Status CheckTeamFlags(const SupervisorConfig& c) {
  const auto bad = [](const std::string& why) {
    return Status{StatusCode::kInvalidArgument, "--team: " + why};
  };
  if (!c.input.empty()) return bad("a sub-supervisor reads no INPUT: its tasks come from its parent");
  if (c.standby || c.replacing) return bad("--standby and --replacing are for the top level");
  if (c.team == c.parent_team) return bad("a team cannot be its own parent");
  // The pool checks its characters as it registers it.
  if (c.team.size() > kMaxTeamNameBytes)
    return bad("team name '" + c.team + "' is longer than " +
               std::to_string(kMaxTeamNameBytes) + " characters");
  return Status::Ok();
}

}  // namespace

void LogFatal(const Status& s) {
  if (s.code() == StatusCode::kStaleTerm) spdlog::error("lost the lead: {}; stopping", s.message());
  else spdlog::error("{}", s.ToString());
}

int SupervisorApp::Run() {
  auto policy = ParsePolicy(config_.policy);
  auto split = ParseSplitMode(config_.split);
  for (const Status& s : {policy.status(), split.status()})
    if (!s.ok()) {
      spdlog::error("{}", s.message());
      return kExitUsage;
    }
  if (!config_.team.empty()) {
    if (Status s = CheckTeamFlags(config_); !s.ok()) {
      spdlog::error("{}", s.message());
      return kExitUsage;
    }
    return RunTeamSupervisor(config_, *policy, InstallStopSignals());
  }
  if (!config_.parent_team.empty() || !config_.decompose.empty() ||
      !config_.synthesize.empty() || !config_.name.empty()) {
    spdlog::error("--parent-team, --name, --decompose and --synthesize need --team");
    return kExitUsage;
  }
  std::vector<TaskDef> defs;
  const bool deferred_read = config_.replacing || config_.standby;
  auto read_input = [&]() -> bool {
    auto read = ReadRequest(config_.input, *split);
    if (!read.ok()) {
      spdlog::error("{}", read.status().message());
      return false;
    }
    defs = std::move(*read);
    return true;
  };
  if (!config_.input.empty()) {
    // Recorded in the pool: a successor may run from another directory.
    std::error_code ec;
    const auto abs = std::filesystem::absolute(config_.input, ec);
    if (!ec) config_.input = abs.lexically_normal().string();
    // A replacement, or a standby, reads it only if it turns out to need
    // it (below): a standby may wait a long time, holding nothing.
    if (!deferred_read && !read_input()) return kExitUsage;
  }
  auto pool = Pool::Open(config_.pool);
  if (!pool.ok()) {
    spdlog::error("cannot attach: {}", pool.status().message());
    return kExitInternal;
  }
  std::atomic<bool>& stop = InstallStopSignals();
  auto led = TakeLead(**pool, config_.lead_lease_ms, config_.heartbeat_ms, config_.standby, stop);
  if (!led.ok()) {
    if (led.status().code() == StatusCode::kTimedOut) {
      // As a stopped leader: a request run by slate-launch run is not over
      // because a standby was stopped (a 0 would say it is).
      spdlog::info("stopped while standing by");
      return config_.serve ? kExitOk : kExitInternal;
    }
    spdlog::error("cannot lead: {}", led.status().message());
    return kExitInternal;
  }
  const AgentRef me = led->me;
  config_.term = led->term;
  // Dead members' tasks come back the moment they die (death_watch.h).
  std::optional<DeathWatch> death_watch(std::in_place, **pool, me);
  // Leaving gives up the lead: the watch, which acts for the leader, stops
  // first, so that nothing is done through this handle after it.
  auto leave = [&] {
    death_watch.reset();
    (void)(*pool)->Deregister(me);
  };
  if (config_.serve) return Serve(config_, **pool, me, *policy, stop);
  auto active = FindActiveRequest(**pool);  // the top level's
  if (!active.ok()) {
    spdlog::error("{}", active.status().ToString());
    return kExitInternal;
  }
  RequestRecord req;
  if (active->has_value()) {
    req = **active;
    spdlog::info("resuming request {} ({}, {} tasks)", req.id, req.source, req.tasks);
    if (!config_.input.empty() && !config_.replacing && !config_.standby)
      spdlog::warn("the pool already holds unfinished request {}; --input is ignored", req.id);
    if (!req.posted && (config_.input.empty() || deferred_read || config_.input != req.source)) {
      auto read = ReadRequest(req.source, req.split);
      if (!read.ok()) {
        spdlog::error("cannot re-read request {}: {}", req.id, read.status().message());
        return kExitInternal;
      }
      defs = std::move(*read);
    }
  } else {
    // A replacement, or a standby, posts INPUT only into a pool that never
    // held a request (its predecessor died before storing it, or none ran);
    // once one was stored, it must never post it again, even if it already
    // finished.
    std::optional<Entry> last;
    if (config_.input.empty() || deferred_read) last = FinalEntryOf(**pool, "");
    if (config_.input.empty() || last) {
      // A supervisor restarted after its request finished: nothing to do
      // but report how it ended.
      leave();
      if (last) {
        auto doc = PayloadToJson(last->payload);
        spdlog::info("nothing to resume: the pool's last request already finished");
        return doc.ok() && doc->contains("summary") ? ExitStatusOf((*doc)["summary"]) : kExitOk;
      }
      spdlog::error("pool '{}' holds no unfinished request and no --input was given",
                    config_.pool);
      return kExitUsage;
    }
    if (deferred_read) {
      if (config_.replacing)
        spdlog::warn("the supervisor before this one died before storing its request; "
                     "posting it from {}", config_.input);
      if (!read_input()) return kExitUsage;
    }
    auto created = CreateRequest(**pool, config_.input, *split, defs.size(), config_.output,
                                 ShapeOf(defs, config_.plan));
    if (!created.ok()) {
      spdlog::error("{}", created.status().ToString());
      return kExitInternal;
    }
    req = *created;
    spdlog::info("request {}: {} tasks from {}", req.id, req.tasks, req.source);
  }
  if (!req.posted) {
    if (Status s = PostTasks(**pool, req, defs, me, config_.default_max_retries); !s.ok()) {
      spdlog::error("{}", s.ToString());
      return kExitInternal;
    }
  }
  std::vector<TaskDef>().swap(defs);  // the tasks are in the pool now
  GroupRun run(config_, **pool, me, *policy, /*serve=*/false);
  if (Status s = run.Admit(std::move(req)); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return kExitInternal;
  }
  const int rc = run.Run(stop);
  if (RanToEnd(rc)) leave();
  return rc;
}

}  // namespace slate::supervisor
