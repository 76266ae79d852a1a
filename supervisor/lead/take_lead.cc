#include "lead/take_lead.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "slate/clock.h"
#include "slate/internal/process_info.h"

namespace slate::supervisor {
namespace {

using std::chrono::milliseconds;

// Sleeps until the leader's process exits, its lease may have run out, a
// heartbeat is due or `stop` is set, whichever is first.
void AwaitLeadFree(const LeaderInfo& leader, int64_t heartbeat_ns, const std::atomic<bool>& stop,
                   int* pidfd, uint64_t* watched_term) {
  if (*watched_term != leader.term) {
    if (*pidfd >= 0) close(*pidfd);
    *pidfd = leader.pid > 0 ? internal::OpenPidfd(leader.pid, leader.start_time) : -1;
    *watched_term = leader.term;
  }
  // A lease's end is read from the pool, so a little past it: the lead is
  // free once expiry < now.
  const int64_t until_expiry = std::max<int64_t>(leader.expires_in_ns, 0) + 1'000'000;
  const int64_t wait_ns = std::min(until_expiry, heartbeat_ns);
  const int wait_ms = static_cast<int>(std::max<int64_t>(1, (wait_ns + 999'999) / 1'000'000));
  if (stop.load()) return;
  if (*pidfd >= 0) {
    pollfd p{*pidfd, POLLIN, 0};
    (void)poll(&p, 1, wait_ms);  // EINTR (a stop signal) ends it early too
  } else {
    usleep(static_cast<useconds_t>(wait_ms) * 1000);
  }
}

// The backlogs of supervisors that died, or that were deposed while
// stopped, become `me`'s.
Status AdoptBacklogs(Pool& pool, AgentRef me) {
  auto agents = pool.ListAgents(std::chrono::seconds(3600));
  if (!agents.ok()) return agents.status();
  for (const auto& a : *agents) {
    if (a.role != AgentRole::kSupervisor || a.ref == me || !a.team.empty()) continue;
    const bool gone = a.liveness == Liveness::kGone;
    if (!gone && a.pending == 0 && a.running == 0) continue;  // a standby
    spdlog::warn("adopting the backlog of supervisor '{}' (pid {}, {})", a.name, a.pid,
                 gone ? "dead" : "deposed");
    if (Status s = pool.Deregister(a.ref, me, "its supervisor lost the lead"); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Result<Lead> TakeLead(Pool& pool, uint32_t lease_ms, uint32_t heartbeat_ms, bool standby,
                      const std::atomic<bool>& stop) {
  auto me = pool.RegisterAgent({"supervisor-" + std::to_string(getpid()), {}, 0,
                                AgentRole::kSupervisor});
  if (!me.ok()) return me.status();
  Lead lead{*me, 0, false};
  int pidfd = -1;
  uint64_t watched_term = UINT64_MAX;
  auto fail = [&](Status s) -> Result<Lead> {
    if (pidfd >= 0) close(pidfd);
    (void)pool.Deregister(*me);
    return s;
  };
  bool announced = false;
  for (;;) {
    if (stop.load()) return fail({StatusCode::kTimedOut, "stopped while standing by"});
    auto term = pool.AcquireLeadership(*me, milliseconds(lease_ms));
    if (term.ok()) {
      lead.term = *term;
      break;
    }
    if (term.status().code() != StatusCode::kAlreadyExists || !standby) return fail(term.status());
    auto leader = pool.Leader();
    if (!leader.ok()) return fail(leader.status());
    if (!announced) {
      spdlog::info("standing by: {}", term.status().message());
      announced = true;
    }
    lead.took_over = true;
    (void)pool.Heartbeat(*me);
    AwaitLeadFree(*leader, int64_t{heartbeat_ms} * 1'000'000, stop, &pidfd, &watched_term);
  }
  if (pidfd >= 0) close(pidfd);
  pool.FenceByLead(*me, lead.term);
  if (Status s = AdoptBacklogs(pool, *me); !s.ok()) return fail(s);
  spdlog::info("leading pool '{}' in term {}{}", pool.name(), lead.term,
               lead.took_over ? " (took over)" : "");
  return lead;
}

}  // namespace slate::supervisor
