// A sub-supervisor of a supervision tree: one process, two members.
//  - In its parent's team it is a worker named cfg.name with the capability
//    cfg.team: the parent hands it tasks that require that capability, and
//    it runs each as a sub-request (sub_request_handler.h).
//  - Over its own team it is the supervisor (a supervisor agent whose team
//    is cfg.team): it runs the team's sub-requests as a top-level
//    supervisor in --serve runs requests, over the workers of that team
//    only, and sees to their deaths, hangs and retries.
// One supervisor leads a team at a time; a replacement adopts the backlog
// of the one that died and resumes every unfinished sub-request of the
// team from the pool.
#pragma once

#include <atomic>

#include "schedule/delegator.h"
#include "supervisor_app.h"

namespace slate::supervisor {

// Exit status as SupervisorApp::Run in --serve: 0 after a stop.
int RunTeamSupervisor(const SupervisorConfig& cfg, Policy policy, std::atomic<bool>& stop);

}  // namespace slate::supervisor
