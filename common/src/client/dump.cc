#include "slate/dump.h"

#include <cinttypes>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>

#include "slate/json_payload.h"

namespace slate {
namespace {

using ojson = nlohmann::ordered_json;

std::string Fit(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width > 3 ? width - 3 : 0) + "...";
}

std::string Join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out.push_back(sep);
    out += s;
  }
  return out;
}

ojson PayloadJson(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return nullptr;
  try {
    return ojson::from_msgpack(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (size_t i = 0; i < bytes.size() && i < 4096; ++i) {
      hex.push_back(kHex[bytes[i] >> 4]);
      hex.push_back(kHex[bytes[i] & 15]);
    }
    return {{"undecodable_msgpack_hex", hex}};
  }
}

std::string Compact(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string Bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  else std::snprintf(buf, sizeof buf, "%" PRIu64 " B", n);
  return buf;
}

}  // namespace

std::string FormatTime(int64_t wall_ns) {
  const time_t secs = static_cast<time_t>(wall_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((wall_ns / 1'000'000) % 1000));
  return buf;
}

std::string EntryTableHeader() {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-8s %-12s %4s %4s %-14s %-24s %-24s %s", "ID", "SEGMENT",
                "IMP", "LIVE", "AUTHOR", "CREATED", "TAGS", "PAYLOAD");
  return buf;
}

std::string EntryTableRow(const Entry& e, size_t payload_width) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-8" PRIu64 " %-12s %4.2f %4s %-14s %-24s %-24s ", e.id,
                Fit(e.segment, 12).c_str(), static_cast<double>(e.importance),
                e.live ? "yes" : "no", Fit(e.author, 14).c_str(), FormatTime(e.created_ns).c_str(),
                Fit(Join(e.tags, ','), 24).c_str());
  return buf + Fit(Compact(PayloadJson(e.payload)), payload_width);
}

ojson EntryToJson(const Entry& e) {
  ojson j = {{"id", e.id},
             {"segment", e.segment},
             {"tags", e.tags},
             {"importance", e.importance},
             {"author", e.author},
             {"created", FormatTime(e.created_ns)},
             {"updated", FormatTime(e.updated_ns)},
             {"live", e.live}};
  if (e.task_id != 0) j["task_id"] = e.task_id;
  if (e.run_ns != 0) j["run_ms"] = static_cast<double>(e.run_ns) / 1e6;
  j["payload"] = PayloadJson(e.payload);
  return j;
}

namespace {

// A supervision tree's teams: who leads each, under which parent, with
// how many workers; parents before their children.
struct TeamView {
  std::string parent;
  const AgentInfo* supervisor = nullptr;
  const AgentInfo* member = nullptr;  // its sub-supervisor in the parent's team
  uint32_t workers = 0, running = 0;
};

std::map<std::string, TeamView> TeamsOf(const std::vector<AgentInfo>& agents) {
  std::map<std::string, TeamView> teams;
  for (const AgentInfo& a : agents) {
    if (a.role == AgentRole::kSubSupervisor) {
      for (const auto& cap : a.capabilities) {
        teams[cap].parent = a.team;
        teams[cap].member = &a;
      }
    } else if (!a.team.empty() && a.role == AgentRole::kSupervisor) {
      if (teams[a.team].supervisor == nullptr || a.liveness != Liveness::kGone)
        teams[a.team].supervisor = &a;
    } else if (!a.team.empty() && a.role == AgentRole::kWorker) {
      teams[a.team].workers += 1;
      teams[a.team].running += a.running;
    }
  }
  return teams;
}

std::string FormatTree(const std::vector<AgentInfo>& agents) {
  const auto teams = TeamsOf(agents);
  if (teams.empty()) return "";
  std::string out;
  std::function<void(const std::string&, int)> below = [&](const std::string& parent, int depth) {
    for (const auto& [name, t] : teams) {
      if (t.parent != parent) continue;
      out += out.empty() ? "TREE    " : "\n        ";
      out += std::string(static_cast<size_t>(depth) * 2, ' ') + name + " < " +
             (parent.empty() ? "top" : parent) + ": ";
      out += t.supervisor == nullptr
                 ? "no supervisor"
                 : "'" + t.supervisor->name + "' (pid " + std::to_string(t.supervisor->pid) + ", " +
                       LivenessName(t.supervisor->liveness) + ")";
      out += ", " + std::to_string(t.workers) + (t.workers == 1 ? " worker" : " workers");
      if (t.member != nullptr)
        out += ", " + std::to_string(t.member->running) + " from its parent";
      if (depth < 8) below(name, depth + 1);
    }
  };
  below("", 0);
  return out;
}

ojson TeamsJson(const std::vector<AgentInfo>& agents) {
  ojson out = ojson::array();
  for (const auto& [name, t] : TeamsOf(agents))
    out.push_back({{"team", name},
                   {"parent", t.parent},
                   {"supervisor", t.supervisor ? t.supervisor->name : ""},
                   {"supervisor_liveness",
                    t.supervisor ? LivenessName(t.supervisor->liveness) : "none"},
                   {"workers", t.workers},
                   {"running", t.running}});
  return out;
}

}  // namespace

std::string FormatLead(const PoolStats& st, const std::vector<AgentInfo>& agents) {
  if (st.lead_term == 0) return "LEAD    never taken";
  std::string who = "nobody";
  const AgentInfo* leader = nullptr;
  std::vector<std::string> standbys;
  for (const AgentInfo& a : agents) {
    if (a.role != AgentRole::kSupervisor || !a.team.empty()) continue;  // teams: the TREE lines
    if (!st.lead_holder.is_shared() && a.ref == st.lead_holder) {
      leader = &a;
      who = "'" + a.name + "' (pid " + std::to_string(a.pid) + ", " + LivenessName(a.liveness) +
            ")";
    } else {
      standbys.push_back(a.liveness == Liveness::kAlive
                             ? a.name
                             : a.name + " (" + LivenessName(a.liveness) + ")");
    }
  }
  std::string out = "LEAD    term " + std::to_string(st.lead_term) + ": " + who;
  if (leader != nullptr) {
    char lease[64];
    const double s = static_cast<double>(std::abs(st.lead_expires_in_ns)) / 1e9;
    if (st.lead_expires_in_ns >= 0) std::snprintf(lease, sizeof lease, ", lease %.1f s left", s);
    else std::snprintf(lease, sizeof lease, ", lease ran out %.1f s ago", s);
    out += lease;
  }
  out += standbys.empty() ? "\n        no standby" : "\n        standbys:";
  for (const auto& n : standbys) out += " " + n;
  if (st.lead_refused != 0)
    out += "; " + std::to_string(st.lead_refused) + " operations refused under a stale term";
  if (const std::string tree = FormatTree(agents); !tree.empty()) out += "\n" + tree;
  return out;
}

std::string FormatStats(const PoolStats& st, const std::vector<AgentInfo>& agents) {
  std::string out;
  char line[256];
  const uint64_t data_total = st.data_bytes_total;
  const uint64_t data_used = st.data_bytes_used;
  std::snprintf(line, sizeof line,
                "pool '%s': %" PRIu64 " of %u entries (%" PRIu64 " live), data %s of %s (%.0f%%), "
                "region %s\n",
                st.name.c_str(), st.entries, st.slot_capacity, st.live_entries,
                Bytes(data_used).c_str(), Bytes(data_total).c_str(),
                data_total ? 100.0 * static_cast<double>(data_used) / static_cast<double>(data_total) : 0.0,
                Bytes(st.region_bytes).c_str());
  out += line;
  std::snprintf(line, sizeof line,
                "next id %" PRIu64 ", commits %" PRIu64 ", evictions %" PRIu64 ", recoveries %" PRIu64
                ", quarantined %" PRIu64 ", stale completions %" PRIu64 "\n",
                st.next_id, st.commits, st.evictions, st.recoveries, st.quarantined,
                st.stale_completions);
  out += line;
  out += "\nSEGMENT      ENTRIES      BYTES  EVICTIONS\n";
  for (const auto& s : st.segments) {
    std::snprintf(line, sizeof line, "%-12s %7" PRIu64 " %10s %10" PRIu64 "\n", s.name.c_str(),
                  s.entries, Bytes(s.bytes).c_str(), s.evictions);
    out += line;
  }
  out += "\nTASKS  ";
  for (int s = 1; s < kTaskStateCount; ++s) {
    std::snprintf(line, sizeof line, " %s %" PRIu64, TaskStateName(static_cast<TaskState>(s)),
                  st.tasks_by_state[s]);
    out += line;
  }
  std::snprintf(line, sizeof line, "\n\nAUTHORS kept once: %u of %u\n", st.authors_kept,
                st.author_rows);
  out += line;
  out += "\n" + FormatLead(st, agents) + "\n";
  std::snprintf(line, sizeof line, "\nAGENTS  %u of %u\n", st.agents_registered, st.agent_capacity);
  out += line;
  if (!agents.empty()) {
    out += "NAME             ROLE           PID  LIVENESS  HEARTBEAT  PENDING  RUNNING     DONE   "
           "FAILED TEAM\n";
    for (const auto& a : agents) {
      std::snprintf(line, sizeof line,
                    "%-16s %-14s %6d  %-8s %8.0fms %8u %8u %8" PRIu64 " %8" PRIu64 " %s\n",
                    Fit(a.name, 16).c_str(), AgentRoleName(a.role), a.pid, LivenessName(a.liveness),
                    static_cast<double>(a.heartbeat_age_ns) / 1e6, a.pending, a.running, a.done,
                    a.failed, a.team.empty() ? "-" : a.team.c_str());
      out += line;
    }
  }
  return out;
}

ojson StatsToJson(const PoolStats& st, const std::vector<AgentInfo>& agents) {
  ojson segs = ojson::array();
  for (const auto& s : st.segments)
    segs.push_back({{"name", s.name}, {"entries", s.entries}, {"bytes", s.bytes},
                    {"evictions", s.evictions}});
  ojson tasks = ojson::object();
  for (int s = 1; s < kTaskStateCount; ++s)
    tasks[TaskStateName(static_cast<TaskState>(s))] = st.tasks_by_state[s];
  ojson list = ojson::array();
  std::string holder;
  ojson standbys = ojson::array();
  for (const auto& a : agents) {
    if (a.role == AgentRole::kSupervisor && a.team.empty()) {
      if (a.ref == st.lead_holder && !st.lead_holder.is_shared()) holder = a.name;
      else standbys.push_back(a.name);
    }
    list.push_back({{"name", a.name}, {"role", AgentRoleName(a.role)}, {"team", a.team},
                    {"pid", a.pid},
                    {"liveness", LivenessName(a.liveness)},
                    {"heartbeat_age_ms", static_cast<double>(a.heartbeat_age_ns) / 1e6},
                    {"capabilities", a.capabilities}, {"pending", a.pending},
                    {"running", a.running}, {"done", a.done}, {"failed", a.failed},
                    {"consecutive_failures", a.consecutive_failures}});
  }
  return {{"pool", st.name},
          {"entries", st.entries},
          {"live_entries", st.live_entries},
          {"slot_capacity", st.slot_capacity},
          {"data_bytes_used", st.data_bytes_used},
          {"data_bytes_total", st.data_bytes_total},
          {"data_free_extents", st.data_free_extents},
          {"region_bytes", st.region_bytes},
          {"next_id", st.next_id},
          {"commits", st.commits},
          {"evictions", st.evictions},
          {"recoveries", st.recoveries},
          {"quarantined", st.quarantined},
          {"stale_completions", st.stale_completions},
          {"authors_kept", st.authors_kept},
          {"author_rows", st.author_rows},
          {"segments", segs},
          {"tasks", tasks},
          {"lead", {{"term", st.lead_term},
                    {"holder", holder},
                    {"holder_row", st.lead_holder.row},
                    {"standbys", standbys},
                    {"expires_in_ms", st.lead_expires_in_ns / 1'000'000},
                    {"refused", st.lead_refused}}},
          {"teams", TeamsJson(agents)},
          {"agents", list}};
}

}  // namespace slate
