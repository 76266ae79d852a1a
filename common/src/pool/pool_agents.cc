// Agents: register, heartbeat, deregister, list with liveness.
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "slate/clock.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/process_info.h"
#include "slate/internal/records.h"

namespace slate {
using namespace internal;

namespace {

Status ValidateAgentSpec(const AgentSpec& spec) {
  if (!IsValidName(spec.name, kMaxAgentNameBytes))
    return {StatusCode::kInvalidArgument,
            "agent name '" + spec.name.substr(0, 80) +
                "' must be 1 to 64 characters of [A-Za-z0-9._-]"};
  if (static_cast<uint32_t>(spec.role) > 3)
    return {StatusCode::kInvalidArgument, "agent '" + spec.name + "': unknown role"};
  if (spec.capabilities.size() > kMaxCapabilities)
    return {StatusCode::kInvalidArgument,
            "agent '" + spec.name + "' has " +
                std::to_string(spec.capabilities.size()) +
                " capabilities, at most 8 allowed"};
  for (const auto& c : spec.capabilities)
    if (!IsValidName(c, kMaxCapabilityBytes))
      return {StatusCode::kInvalidArgument,
              "capability '" + c.substr(0, 80) +
                  "' must be 1 to 32 characters of [A-Za-z0-9._-]"};
  if (!spec.team.empty() && !IsValidName(spec.team, kMaxTeamNameBytes))
    return {StatusCode::kInvalidArgument,
            "team '" + spec.team.substr(0, 80) + "' must be 1 to " +
                std::to_string(kMaxTeamNameBytes) + " characters of [A-Za-z0-9._-]"};
  return Status::Ok();
}

// The age of a heartbeat its agent writes lock-free: any value at all, so
// the difference saturates instead of overflowing (an ancient one reads as
// stale, one from the far future as fresh).
int64_t HeartbeatAge(int64_t now, int64_t heartbeat) {
  int64_t age;
  if (__builtin_sub_overflow(now, heartbeat, &age))
    return heartbeat < 0 ? INT64_MAX : INT64_MIN;
  return age;
}

}  // namespace

namespace internal {

std::string AgentName(const Region& r, uint32_t row) {
  if (!r.ValidAgentRow(row)) return "";
  const char* n = r.agent(row).rec.name;
  return {n, strnlen(n, kMaxAgentNameBytes)};
}

std::vector<AgentInfo> AgentsOf(const Region& r, int64_t stale_after_ns) {
  std::vector<AgentInfo> out;
  const int64_t now = NowMonoNs();
  for (uint32_t row = 1; row <= r.geo().agent_capacity; ++row) {
    const AgentRow& a = r.agent(row);
    if (a.rec.state != 1) continue;
    AgentInfo info;
    info.ref = {row, a.rec.generation};
    info.name = AgentName(r, row);
    info.role = static_cast<AgentRole>(a.rec.role);
    info.team.assign(a.rec.team, strnlen(a.rec.team, kMaxTeamBytes));
    for (uint32_t i = 0; i < a.rec.ncaps && i < kMaxCapabilities; ++i)
      info.capabilities.emplace_back(a.rec.caps[i],
                                     strnlen(a.rec.caps[i], kMaxCapabilityBytes));
    info.pid = a.rec.pid;
    info.start_time = a.rec.start_time;
    info.entry_id = a.rec.entry_id;
    info.registered_ns = a.rec.registered_ns;
    info.heartbeat_age_ns = HeartbeatAge(now, a.heartbeat_mono.load(std::memory_order_relaxed));
    if (!ProcessAlive(a.rec.pid, a.rec.start_time)) {
      info.liveness = Liveness::kGone;
    } else if (info.heartbeat_age_ns > stale_after_ns) {
      info.liveness = Liveness::kStale;
    }
    info.pending = a.queue.pending;
    info.running = a.queue.running;
    info.done = a.rec.tallies.done;
    info.failed = a.rec.tallies.failed;
    info.consecutive_failures = a.rec.tallies.consecutive_failures;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace internal

const char* AgentRoleName(AgentRole r) {
  switch (r) {
    case AgentRole::kWorker: return "worker";
    case AgentRole::kSupervisor: return "supervisor";
    case AgentRole::kCoordinator: return "coordinator";
    case AgentRole::kSubSupervisor: return "sub-supervisor";
  }
  return "invalid";
}

const char* LivenessName(Liveness l) {
  switch (l) {
    case Liveness::kAlive: return "alive";
    case Liveness::kStale: return "stale";
    case Liveness::kGone: return "gone";
  }
  return "invalid";
}

Result<AgentRef> Pool::RegisterAgent(const AgentSpec& spec) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (Status s = ValidateAgentSpec(spec); !s.ok()) return s;
  const int32_t pid = spec.pid == 0 ? getpid() : spec.pid;
  const uint64_t start_time = ProcessStartTime(pid);
  if (start_time == 0)
    return Status{StatusCode::kInvalidArgument,
                  "agent '" + spec.name + "': process " + std::to_string(pid) +
                      " does not exist"};
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Result<AgentRef> {
    const Region& r = im.region_;
    uint32_t free_row = 0;
    for (uint32_t row = 1; row <= r.geo().agent_capacity; ++row) {
      const AgentRecord& a = r.agent(row).rec;
      if (a.state != 1) {
        if (free_row == 0) free_row = row;
        continue;
      }
      if (AgentName(r, row) == spec.name)
        return Status{StatusCode::kAlreadyExists,
                      "agent '" + spec.name + "' is already registered (pid " +
                          std::to_string(a.pid) + ")"};
      // One live supervisor a team, checked in the same hold as the
      // registration, so two started at once cannot both get in.
      if (spec.role == AgentRole::kSupervisor && !spec.team.empty() &&
          a.role == static_cast<uint32_t>(AgentRole::kSupervisor) &&
          strnlen(a.team, kMaxTeamBytes) == spec.team.size() &&
          std::memcmp(a.team, spec.team.data(), spec.team.size()) == 0 &&
          ProcessAlive(a.pid, a.start_time))
        return Status{StatusCode::kAlreadyExists,
                      "team '" + spec.team + "' is led by '" + AgentName(r, row) + "' (pid " +
                          std::to_string(a.pid) + ")"};
    }
    if (free_row == 0)
      return Status{StatusCode::kPoolFull,
                    "pool '" + im.name_ + "' has no free agent row (" +
                        std::to_string(r.geo().agent_capacity) + " in use)"};
    const SlotSpec ss = MakeSlotSpec(
        kSegAgents, spec.name, "", {"agent"}, 1.0f,
        AgentEntryRecord(spec.name, pid, spec.capabilities));
    if (Status s = im.Reserve(ss);
        !s.ok())
      return s;
    AgentRow& row = r.agent(free_row);
    Txn txn(r, OpCode::kRegister);
    txn.Save(row.rec);
    const uint32_t slot = im.InsertSlot(txn, ss);
    im.LinkSlot(slot);
    AgentRecord& a = row.rec;
    const uint32_t generation = a.generation + 1;
    std::memset(&a, 0, sizeof a);
    a.generation = generation;
    a.pid = pid;
    a.role = static_cast<uint32_t>(spec.role);
    a.start_time = start_time;
    a.entry_id = r.slot(slot).id;
    a.registered_ns = NowRealNs();
    std::memcpy(a.name, spec.name.data(), spec.name.size());
    std::memcpy(a.team, spec.team.data(), spec.team.size());
    a.ncaps = static_cast<uint32_t>(spec.capabilities.size());
    for (uint32_t i = 0; i < a.ncaps; ++i) {
      std::memcpy(a.caps[i], spec.capabilities[i].data(),
                  spec.capabilities[i].size());
      a.cap_hash[i] = Hash32(spec.capabilities[i]);
    }
    row.heartbeat_mono.store(NowMonoNs(), std::memory_order_relaxed);
    a.state = 1;
    r.header().derived.agents_registered += 1;
    txn.Commit();
    g.Notify(&r.header().entries_event);
    return AgentRef{free_row, generation};
  });
}

Status Pool::Heartbeat(AgentRef agent) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  const Region& r = impl_->region_;
  if (!r.ValidAgentRow(agent.row))
    return {StatusCode::kNotFound, "no agent row " + std::to_string(agent.row)};
  AgentRow& a = r.agent(agent.row);
  // Lock-free: a racing deregistration makes this a harmless stale store.
  const uint32_t gen = std::atomic_ref<uint32_t>(a.rec.generation).load(
      std::memory_order_acquire);
  const uint32_t state = std::atomic_ref<uint32_t>(a.rec.state).load(
      std::memory_order_acquire);
  if (gen != agent.generation || state != 1)
    return {StatusCode::kNotFound, "agent row " + std::to_string(agent.row) +
                                       " is no longer this registration"};
  a.heartbeat_mono.store(NowMonoNs(), std::memory_order_release);
  return Status::Ok();
}

Status Pool::Deregister(AgentRef agent, AgentRef heir, const std::string& reason) {
  if (Status s = impl_->RequireWritable(); !s.ok()) return s;
  if (!heir.is_shared() && heir == agent)
    return {StatusCode::kInvalidArgument, "an agent cannot be its own heir"};
  // Hand back its tasks first, one committed move each, so a death midway
  // leaves every task in exactly one queue.
  for (;;) {
    auto running = RunningTasks(agent);
    if (!running.ok()) return running.status();
    auto pending = PendingTasks(agent, 64);
    if (!pending.ok()) return pending.status();
    if (running->empty() && pending->empty()) break;
    for (TaskId id : *running)
      if (Status s = Reassign(id, heir, reason); !s.ok() && s.code() != StatusCode::kWrongState)
        return s;
    for (TaskId id : *pending)
      if (Status s = Reassign(id, heir); !s.ok() && s.code() != StatusCode::kWrongState)
        return s;
  }
  Impl& im = *impl_;
  Impl::Guard g(im);
  if (!g.status().ok()) return g.status();
  return im.RepairingLocked([&]() -> Status {
    if (Status s = im.CheckAgentLocked(agent); !s.ok()) return s;
    const Region& r = im.region_;
    AgentRow& row = r.agent(agent.row);
    if (row.queue.pending != 0 || row.queue.running != 0)
      return {StatusCode::kWrongState,
              "agent '" + AgentName(r, agent.row) +
                  "' was given new tasks while deregistering; try again"};
    auto slot = im.LocateLocked(row.rec.entry_id, "agent entry");
    Txn txn(r, OpCode::kDeregister);
    txn.Save(row.rec);
    DataRef data;
    if (slot.ok()) {
      Slot& s = r.slot(*slot);
      txn.Save(s);  // checks the seal: the fields below are the protocol's
      data = DataRef::Of(s);
      im.UnlinkSlot(*slot);
      s.state = static_cast<uint8_t>(SlotState::kFree);
    }
    // A leader that leaves gives up the lead; the term stays, to be
    // followed by the next.
    Leadership& lead = r.header().leadership;
    if (lead.holder_row == agent.row && lead.holder_generation == agent.generation) {
      txn.Save(lead);
      lead.holder_row = 0;
      lead.holder_generation = 0;
      lead.expiry_mono_ns = 0;
    }
    row.rec.state = 0;
    r.header().derived.agents_registered -= 1;
    txn.Commit();
    if (slot.ok()) im.ReleaseSlot(*slot, data);
    return Status::Ok();
  });
}

Result<std::vector<AgentInfo>> Pool::ListAgents(
    std::chrono::milliseconds stale_after) const {
  return impl_->WithView([&](const Region& r) -> Result<std::vector<AgentInfo>> {
    return AgentsOf(r, stale_after.count() * 1'000'000);
  });
}

std::string Pool::Impl::AgentNameOf(AgentRef ref) const {
  std::lock_guard<std::mutex> lock(agent_name_mu_);
  if (!ref.is_shared() && ref == agent_name_ref_) return agent_name_;
  Guard g(*this);
  if (!g.status().ok() || !CheckAgentLocked(ref).ok()) return "";
  agent_name_ref_ = ref;
  agent_name_ = AgentName(region_, ref.row);
  return agent_name_;
}

AgentRef Pool::LiveSupervisorOrShared() const {
  // The leader, not any supervisor: a standby reads no queue.
  auto lead = Leader();
  if (lead.ok() && lead->alive) return lead->holder;
  return kSharedQueue;
}

AgentRef Pool::TeamSupervisorOrShared(const std::string& team) const {
  if (team.empty()) return LiveSupervisorOrShared();
  auto agents = ListAgents(std::chrono::hours(24));
  if (!agents.ok()) return kSharedQueue;
  AgentRef found = kSharedQueue;
  for (const AgentInfo& a : *agents) {
    if (a.role != AgentRole::kSupervisor || a.team != team) continue;
    if (a.liveness != Liveness::kGone) return a.ref;
    found = a.ref;
  }
  return found;
}

}  // namespace slate
