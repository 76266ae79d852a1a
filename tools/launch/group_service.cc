#include "group_service.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "request/aggregate.h"
#include "handler.h"
#include "restarter.h"
#include "process_group.h"
#include "request/request_reader.h"
#include "request/request_store.h"
#include "slate/clock.h"
#include "slate/dump.h"
#include "slate/group_snapshot.h"
#include "slate/http_server.h"
#include "slate/internal/process_info.h"
#include "slate/json_payload.h"
#include "slate/process_setup.h"
#include "slate/pool.h"

namespace slate::launch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kControl = "control";

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "slate-launch: %s\n", message.c_str());
  return code;
}

std::string StatePath(const std::string& pool) { return RuntimeDir(pool) + "/group.json"; }

// The dashboard's files in the runtime folder: its address once it serves,
// and its token (mode 0600).
constexpr const char* kDashboardUrl = "dashboard.url";
constexpr const char* kDashboardToken = "dashboard.token";

// HOST:PORT with a port of its own: port 0 is replaced by a free one now,
// so a restarted dashboard comes back at the same address.
Result<std::string> FixedPort(const std::string& address) {
  auto parsed = http::ParseAddress(address, "--dashboard");
  if (!parsed.ok()) return parsed.status();
  const std::string& host = parsed->host;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1)
    return Status{StatusCode::kInvalidArgument,
                  "--dashboard '" + address + "': '" + host + "' is not an IPv4 address"};
  if (parsed->port != 0) return host + ":" + std::to_string(parsed->port);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  socklen_t len = sizeof sa;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    if (fd >= 0) close(fd);
    return Status{StatusCode::kIoError, "--dashboard: no free port on " + host};
  }
  close(fd);
  return host + ":" + std::to_string(ntohs(sa.sin_port));
}

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

json LoadState(const std::string& pool) {
  std::ifstream in(StatePath(pool));
  if (!in) return nullptr;
  return json::parse(in, nullptr, false);
}

bool KeeperAlive(const json& state) {
  return state.is_object() &&
         internal::ProcessAlive(state.value("keeper_pid", 0), state.value("keeper_start", 0ull));
}

// scalable: its workers are all of one kind, so `scale` can add or remove
// some (a group file may describe several kinds).
void SaveState(const std::string& pool, const ProcessGroup& group, bool scalable) {
  json members = json::array();
  for (size_t i = 0; i < group.size(); ++i) {
    const Member& m = group.member(i);
    if (m.retired && m.exited) continue;
    members.push_back({{"name", m.name}, {"pid", m.pid}, {"restarts", m.restarts}});
  }
  const json state = {{"pool", pool},
                      {"keeper_pid", getpid()},
                      {"keeper_start", internal::ProcessStartTime(getpid())},
                      {"members", members},
                      {"scalable", scalable}};
  const std::string tmp = StatePath(pool) + ".tmp";
  std::ofstream(tmp) << state.dump(2) << "\n";
  std::rename(tmp.c_str(), StatePath(pool).c_str());
}

std::atomic<int> g_keeper_signal{0};
void OnKeeperSignal(int sig) { g_keeper_signal.store(sig); }

// The keeper: owns the members, restarts crashed ones within the budget,
// obeys "control" entries, and stops everything on SIGTERM or "stop".
class Keeper {
 public:
  Keeper(const ServiceOptions& o, Pool& pool) : o_(o), pool_(pool) {}

  int Run() {
    const std::string dir = RuntimeDir(o_.pool);
    fs::create_directories(dir + "/logs");
    bin_ = SelfDirectory();
    std::vector<std::string> coordinator = {bin_ + "/slate-coordinator", "--hung-after-ms",
                                            std::to_string(o_.hung_after_ms)};
    if (!o_.metrics.empty()) coordinator.insert(coordinator.end(), {"--metrics", o_.metrics});
    Start("coordinator", coordinator);
    if (!o_.dashboard.empty())
      Start("dashboard", {bin_ + "/slate-dashboard", "--listen", o_.dashboard, "--token-file",
                          dir + "/" + kDashboardToken, "--state-file", StatePath(o_.pool),
                          "--url-file", dir + "/" + kDashboardUrl});
    for (size_t g = 0; g < o_.groups.size(); ++g)
      for (uint32_t i = 0; i < o_.groups[g].count; ++i) AddWorker(g);
    // What every supervisor of the group, at any level, is told alike.
    std::vector<std::string> tuning = {
        "--policy", o_.policy, "--max-retries", std::to_string(o_.max_retries),
        "--max-pending", std::to_string(o_.max_pending), "--preempt-margin",
        std::to_string(o_.preempt_margin), "--age-ms", std::to_string(o_.age_ms),
        "--hung-after-ms", std::to_string(o_.hung_after_ms)};
    if (o_.no_fail_fast) tuning.push_back("--no-fail-fast");
    std::vector<std::string> sup = {bin_ + "/slate-supervisor", "--serve"};
    sup.insert(sup.end(), tuning.begin(), tuning.end());
    sup.insert(sup.end(), {"--lead-lease-ms", std::to_string(o_.lead_lease_ms)});
    sup.insert(sup.end(), o_.supervisor_args.begin(), o_.supervisor_args.end());
    if (o_.supervisors > 1) sup.push_back("--standby");  // one leads, the others wait
    for (uint32_t i = 0; i < o_.supervisors; ++i)
      Start(o_.supervisors == 1 ? "supervisor" : "supervisor-" + std::to_string(i + 1), sup);
    for (const TeamSpec& t : o_.teams) {
      Start("sub-supervisor-" + t.team, TeamSupervisorArgv(bin_, t, tuning));
      for (const auto& g : t.workers)
        for (uint32_t i = 0; i < g.count; ++i) {
          const std::string name = t.team + "-worker-" + std::to_string(++worker_seq_);
          auto argv = WorkerArgv(bin_, name, g.flags, g.capabilities);
          argv.insert(argv.end(), {"--team", t.team, "--lease-ms", std::to_string(o_.lease_ms)});
          Start(name, argv);
        }
    }
    Save();
    std::fprintf(stderr, "keeper: group '%s' running with %u workers\n", o_.pool.c_str(),
                 o_.workers);
    const bool keep = Loop();
    std::fprintf(stderr, "keeper: stopping the group\n");
    group_.StopAll(std::chrono::milliseconds(o_.timeout_ms));
    fs::remove(StatePath(o_.pool));
    std::fprintf(stderr, "keeper: stopped%s\n", keep ? " (pool and logs kept)" : "");
    if (!keep) {  // nothing of the group is left behind
      (void)Pool::Remove(o_.pool);
      std::error_code ec;
      fs::remove_all(RuntimeDir(o_.pool), ec);
    }
    return 0;
  }

 private:
  void Start(const std::string& name, std::vector<std::string> argv) {
    argv.insert(argv.begin() + 1, {"--pool", o_.pool, "--log-level", o_.log_level});
    const std::string log = RuntimeDir(o_.pool) + "/logs/" + name + ".log";
    if (auto s = group_.Start(name, argv, {}, false, log); !s.ok())
      std::fprintf(stderr, "keeper: %s\n", s.status().message().c_str());
  }

  void Save() const { SaveState(o_.pool, group_, o_.groups.size() == 1 && o_.teams.empty()); }

  // A worker of group g of o_.groups.
  void AddWorker(size_t g = 0) {
    const std::string name = "worker-" + std::to_string(++worker_seq_);
    auto argv = WorkerArgv(bin_, name, o_.groups[g].flags, o_.groups[g].capabilities);
    argv.insert(argv.end(), {"--lease-ms", std::to_string(o_.lease_ms)});
    Start(name, argv);
  }

  std::vector<size_t> ActiveWorkers() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < group_.size(); ++i) {
      const Member& m = group_.member(i);
      if (m.name.rfind("worker-", 0) == 0 && !m.retired) out.push_back(i);
    }
    return out;
  }

  void Scale(uint32_t target) {
    auto active = ActiveWorkers();
    while (active.size() < target) {
      AddWorker();
      active = ActiveWorkers();
    }
    while (active.size() > target) {  // the newest leave first; they drain
      group_.Retire(active.back());
      active.pop_back();
    }
    Save();
    std::fprintf(stderr, "keeper: scaled to %u workers\n", target);
  }

  // Returns whether to keep the pool when stopping.
  bool Loop() {
    Restarter restarter(group_, pool_,
                        {o_.max_restarts, std::chrono::seconds(o_.restart_window_s),
                         std::chrono::milliseconds(o_.restart_delay_ms),
                         std::chrono::milliseconds(o_.restart_delay_max_ms)},
                        "keeper");
    EntryId cursor = pool_.Stats()->next_id - 1;
    while (g_keeper_signal.load() == 0) {
      for (size_t i : group_.Reap()) {
        Member& m = group_.mutable_member(i);
        if (m.retired) continue;
        if (WIFEXITED(m.status) && WEXITSTATUS(m.status) == kExitRegionLost) {
          std::fprintf(stderr, "keeper: %s lost the pool; stopping the group\n",
                       m.name.c_str());
          return false;
        }
        if (auto stop = restarter.OnExit(i)) {
          std::fprintf(stderr, "keeper: %s\n", stop->c_str());
          return true;  // keep the pool for inspection
        }
        Save();
      }
      bool restarted = false;
      if (auto failed = restarter.Tick(&restarted))
        std::fprintf(stderr, "keeper: %s\n", failed->c_str());
      if (restarted) Save();
      if (Status lost = pool_.CheckMapping(); !lost.ok()) {
        std::fprintf(stderr, "keeper: %s; stopping the group\n", lost.message().c_str());
        return false;
      }
      Query q;
      q.segments = {kControl};
      q.after_id = cursor;
      q.limit = 0;
      // A member's death ends the sleep at once (its pidfd); a command is
      // seen within one sleep.
      group_.WaitForExit(20ms);
      auto commands = pool_.Find(q);
      if (!commands.ok()) continue;
      for (const Entry& e : *commands) {
        cursor = e.id;
        auto cmd = PayloadToJson(e.payload);
        if (!cmd.ok() || !cmd->is_object()) continue;
        const std::string what = cmd->value("cmd", "");
        if (what == "scale") Scale(cmd->value("workers", o_.workers));
        if (what == "stop") return cmd->value("keep", false);
      }
    }
    return o_.keep;
  }

  const ServiceOptions& o_;
  Pool& pool_;
  ProcessGroup group_;
  std::string bin_;
  uint32_t worker_seq_ = 0;
};

Status SendControl(const std::string& pool, const json& cmd) {
  auto p = Pool::Open(pool);
  if (!p.ok()) return p.status();
  NewEntry e;
  e.segment = kControl;
  e.tags = {"cmd"};
  e.author = "slate-launch";
  e.payload = JsonToPayload(cmd);
  return (*p)->Write(e).status();
}

// The options with the group's workers and supervisors made out: from
// --group FILE, or from the flags (one kind of worker). Everything a user
// can get wrong is checked here, before anything starts.
Result<ServiceOptions> ResolveService(const ServiceOptions& o) {
  std::string why;
  if (!IsValidPoolName(o.pool, &why)) return Status{StatusCode::kInvalidArgument, why};
  if (Status s = CheckSupervisorArgs(
          o.supervisor_args,
          {"pool", "log-level", "serve", "policy", "max-retries", "max-pending",
           "preempt-margin", "age-ms", "hung-after-ms", "no-fail-fast", "lead-lease-ms",
           "standby"});
      !s.ok())
    return s;
  ServiceOptions r = o;
  if (!o.group_file.empty()) {
    auto tree = ReadGroupFile(o.group_file);
    if (!tree.ok()) return tree.status();
    r.supervisors = tree->supervisors;
    r.groups = std::move(tree->workers);
    r.teams = Teams(*tree);
    for (auto& g : r.groups) g.flags.preempt_grace_ms = o.worker.preempt_grace_ms;
    for (auto& t : r.teams)
      for (auto& g : t.workers) g.flags.preempt_grace_ms = o.worker.preempt_grace_ms;
  } else {
    auto workers = WorkerGroupsFromFlags(o.workers, o.capabilities, o.worker_specs, o.worker);
    if (!workers.ok()) return workers.status();
    r.groups = std::move(*workers);
  }
  r.workers = 0;
  std::vector<const WorkerGroupSpec*> groups;
  for (const auto& g : r.groups) groups.push_back(&g);
  for (const auto& t : r.teams)
    for (const auto& g : t.workers) groups.push_back(&g);
  for (const WorkerGroupSpec* g : groups) {
    r.workers += g->count;
    if (Status s = CheckWorkerFlags(g->flags); !s.ok()) return s;
    if (Status s = CheckPythonWorker(SelfDirectory(), g->flags); !s.ok()) return s;
  }
  return r;
}

}  // namespace

std::string RuntimeDir(const std::string& pool) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  const std::string base = xdg != nullptr && *xdg != '\0'
                               ? std::string(xdg) + "/slate"
                               : "/tmp/slate-" + std::to_string(geteuid());
  std::error_code ec;
  fs::create_directories(base, ec);
  chmod(base.c_str(), 0700);
  return base + "/" + pool;
}

// What a pool with no keeper has left, for a message: the keeper's last
// words, and the pool and runtime folder still there.
std::string KeeperLastWords(const std::string& pool) {
  std::ifstream log(RuntimeDir(pool) + "/logs/keeper.log");
  std::string line, last, reason;
  while (std::getline(log, line)) {
    if (line.empty()) continue;
    last = line;
    // The line that says why it stopped, rather than that it did.
    if (line.find("stopping the group") != std::string::npos && line != "keeper: stopping the group")
      reason = line;
  }
  const std::string& said = reason.empty() ? last : reason;
  if (said.empty()) return "";
  std::string out = "; its keeper's last words: \"" + said + "\"";
  // "keeper: supervisor (pid 7) exit 2; ...": that member's own last line.
  if (const auto pid = said.find(" (pid "); reason == said && pid != std::string::npos) {
    const std::string member = said.substr(8, pid - 8);
    std::ifstream member_log(RuntimeDir(pool) + "/logs/" + member + ".log");
    std::string member_last;
    while (std::getline(member_log, line))
      if (!line.empty()) member_last = line;
    if (!member_last.empty()) out += "; " + member + "'s: \"" + member_last + "\"";
  }
  return out;
}

std::string WhatWasLeft(const std::string& pool) {
  std::string note = KeeperLastWords(pool);
  if (Pool::Exists(pool))
    note += "; the pool is still there (slate-launch stop --pool " + pool + " removes it)";
  return note;
}

// stop with no keeper: a pool kept by --keep, or left by a group whose
// keeper gave up or died, is removed with its runtime folder, unless a
// live process still works in it (a run in progress).
int RemoveLeftovers(const ServiceOptions& o) {
  const std::string dir = RuntimeDir(o.pool);
  const bool has_dir = fs::exists(dir);
  if (!Pool::Exists(o.pool) && !has_dir)
    return Fail("no group is running on pool '" + o.pool + "', and no pool of that name is left");
  if (Pool::Exists(o.pool)) {
    auto pool = Pool::Open(o.pool, OpenMode::kReadOnly);
    if (pool.ok())
      if (auto agents = (*pool)->ListAgents(5s); agents.ok())
        for (const auto& a : *agents)
          if (a.liveness != Liveness::kGone)
            return Fail("pool '" + o.pool + "' is in use by " + a.name + " (pid " +
                        std::to_string(a.pid) + "), not by a group slate-launch start began; "
                        "stop that process instead");
  }
  const std::string why = WhatWasLeft(o.pool);
  if (Pool::Exists(o.pool))
    if (Status s = Pool::Remove(o.pool); !s.ok()) return Fail(s.message());
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::printf("slate-launch: no group was running on pool '%s'%s; removed %s%s\n",
              o.pool.c_str(), why.substr(0, why.find("; the pool is still there")).c_str(),
              "the pool", has_dir ? (" and " + dir).c_str() : "");
  return 0;
}

int StartService(const ServiceOptions& options) {
  auto resolved = ResolveService(options);
  if (!resolved.ok()) return Fail(resolved.status().message(), 2);
  if (!resolved->dashboard.empty()) {
    auto fixed = FixedPort(resolved->dashboard);
    if (!fixed.ok()) return Fail(fixed.status().message(), 2);
    resolved->dashboard = *fixed;
  }
  const ServiceOptions& o = *resolved;
  if (KeeperAlive(LoadState(o.pool)))
    return Fail("a group is already running on pool '" + o.pool + "'", 2);
  PoolOptions po;
  po.name = o.pool;
  po.slot_capacity = o.slots;
  po.data_bytes = std::max<uint64_t>(64ull << 20, uint64_t{o.slots} * 512);
  po.mode = o.group_mode ? 0660 : 0600;
  po.remove_if_lost = true;
  po.reserve = o.reserve;
  auto pool = Pool::Create(po);
  if (!pool.ok()) return Fail(pool.status().message(), 2);
  const std::string dir = RuntimeDir(o.pool);
  fs::create_directories(dir + "/logs");
  fs::create_directories(dir + "/results");
  fs::remove(StatePath(o.pool));
  fs::remove(dir + "/" + kDashboardUrl);  // a new group, a new token
  fs::remove(dir + "/" + kDashboardToken);
  const pid_t keeper = fork();
  if (keeper < 0) return Fail("cannot fork the keeper");
  if (keeper == 0) {
    setsid();
    const int null_fd = open("/dev/null", O_RDWR);
    const int log_fd = open((dir + "/logs/keeper.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    struct sigaction sa {};
    sa.sa_handler = OnKeeperSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGHUP, SIG_IGN);
    const int rc = Keeper(o, **pool).Run();
    pool->reset();
    _exit(rc);
  }
  // Wait until the keeper wrote its state and every member registered.
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    auto agents = (*pool)->ListAgents(10s);
    const bool dashboard_up = o.dashboard.empty() || fs::exists(dir + "/" + kDashboardUrl);
    if (KeeperAlive(LoadState(o.pool)) && agents.ok() &&
        agents->size() >= o.workers + 1 + o.supervisors && dashboard_up) {
      std::printf("slate-launch: group '%s' started: keeper pid %d, %u workers; logs in %s/logs\n",
                  o.pool.c_str(), keeper, o.workers, dir.c_str());
      if (!o.dashboard.empty())
        std::printf("slate-launch: dashboard at %s#token=%s (token in %s/%s)\n",
                    ReadLine(dir + "/" + kDashboardUrl).c_str(),
                    ReadLine(dir + "/" + kDashboardToken).c_str(), dir.c_str(), kDashboardToken);
      return 0;
    }
    if (waitpid(keeper, nullptr, WNOHANG) == keeper)  // it gave up (a member crash-looped)
      return Fail("the group stopped as it started" + KeeperLastWords(o.pool) + "; see " + dir +
                  "/logs");
    std::this_thread::sleep_for(50ms);
  }
  kill(keeper, SIGTERM);
  return Fail("the group did not come up within 15 s" + KeeperLastWords(o.pool) + "; see " + dir +
              "/logs");
}

int SubmitToService(const ServiceOptions& o) {
  auto split = supervisor::ParseSplitMode(o.split);
  if (!split.ok()) return Fail(split.status().message(), 2);
  std::error_code ec;
  const std::string source = fs::absolute(o.input, ec).lexically_normal().string();
  auto defs = supervisor::ReadRequest(source, *split);
  if (!defs.ok()) return Fail(defs.status().message(), 2);
  if (!KeeperAlive(LoadState(o.pool)))
    return Fail("no group is running on pool '" + o.pool + "' (slate-launch start)", 2);
  auto pool = Pool::Open(o.pool);
  if (!pool.ok()) return Fail(pool.status().message());
  const std::string output = RuntimeDir(o.pool) + "/results/" + std::to_string(NowRealNs()) +
                             "-" + std::to_string(getpid()) + ".json";
  if (o.priority < -128 || o.priority > 127)
    return Fail("--priority must be in -128..127, not " + std::to_string(o.priority), 2);
  supervisor::RequestShape shape = supervisor::ShapeOf(*defs, o.plan.options);
  shape.priority = o.priority;
  auto req = supervisor::CreateRequest(**pool, source, *split, defs->size(), output, shape);
  if (!req.ok()) return Fail(req.status().message());
  if (o.no_wait) {
    std::printf("%s\n", req->id.c_str());
    return 0;
  }
  Query q;
  q.segments = {segments::kResults};
  q.all_tags = {"final", "req:" + req->id};
  for (;;) {
    auto done = (*pool)->Wait(q, 500ms);
    if (done.ok() && !done->empty()) {
      std::ifstream in(output);
      std::cout << in.rdbuf() << std::flush;
      fs::remove(output, ec);
      auto doc = PayloadToJson(done->front().payload);
      if (doc.ok() && doc->contains("error")) return Fail((*doc)["error"].get<std::string>());
      return doc.ok() ? supervisor::ExitStatusOf((*doc)["summary"]) : 0;
    }
    if (!KeeperAlive(LoadState(o.pool)))
      return Fail("the group on pool '" + o.pool + "' stopped before request " + req->id +
                  " finished");
  }
}

int ServiceStatus(const ServiceOptions& o) {
  const json state = LoadState(o.pool);
  if (!KeeperAlive(state))
    return Fail("no group is running on pool '" + o.pool + "'" + WhatWasLeft(o.pool));
  std::printf("group '%s': keeper pid %d, runtime folder %s\n", o.pool.c_str(),
              state["keeper_pid"].get<int>(), RuntimeDir(o.pool).c_str());
  auto pool = Pool::Open(o.pool, OpenMode::kReadOnly);
  if (!pool.ok()) return Fail(pool.status().message());
  auto agents = (*pool)->ListAgents(5s);
  if (agents.ok()) {
    std::printf("%-18s %-14s %7s %-8s %6s %6s %s\n", "MEMBER", "ROLE", "PID", "STATE", "DONE",
                "FAILED", "TEAM");
    for (const auto& a : *agents)
      std::printf("%-18s %-14s %7d %-8s %6llu %6llu %s\n", a.name.c_str(),
                  AgentRoleName(a.role), a.pid, LivenessName(a.liveness),
                  static_cast<unsigned long long>(a.done), static_cast<unsigned long long>(a.failed),
                  a.team.empty() ? "-" : a.team.c_str());
  }
  Query q;
  q.segments = {supervisor::kRequestsSegment};
  q.limit = 0;
  q.with_payload = false;
  size_t active = 0, finished = 0;
  if (auto reqs = (*pool)->Find(q); reqs.ok())
    for (const auto& r : *reqs)
      (std::find(r.tags.begin(), r.tags.end(), "active") != r.tags.end() ? active : finished) += 1;
  auto st = (*pool)->Stats();
  if (st.ok() && agents.ok()) std::printf("%s\n", FormatLead(*st, *agents).c_str());
  if (const std::string url = ReadLine(RuntimeDir(o.pool) + "/" + kDashboardUrl); !url.empty())
    std::printf("DASHBOARD %s (token in %s/%s)\n", url.c_str(), RuntimeDir(o.pool).c_str(),
                kDashboardToken);
  std::printf("requests: %zu active, %zu finished; tasks:", active, finished);
  // Every state with tasks in it; pending, running and done always.
  for (int s = 1; s < kTaskStateCount; ++s) {
    const uint64_t n = st.ok() ? st->tasks_by_state[s] : 0;
    if (n != 0 || s <= static_cast<int>(TaskState::kDone))
      std::printf("%s %llu %s", s == 1 ? "" : ",", static_cast<unsigned long long>(n),
                  TaskStateName(static_cast<TaskState>(s)));
  }
  // A checkpoint exists only while its task is unfinished.
  if (st.ok())
    for (const auto& seg : st->segments)
      if (seg.name == segments::kCheckpoints && seg.entries != 0)
        std::printf(", %llu with a checkpoint", static_cast<unsigned long long>(seg.entries));
  std::printf("\n");
  // The requests running side by side, as the coordinator last counted them.
  if (active != 0)
    if (auto snap = TakeGroupSnapshot(**pool, 0); snap.ok())
      for (const RequestProgress& r : snap->requests) {
        std::printf("  request %s: %llu of %llu finished, %llu running", r.id.c_str(),
                    static_cast<unsigned long long>(r.Finished()),
                    static_cast<unsigned long long>(r.total),
                    static_cast<unsigned long long>(r.running));
        if (r.priority != 0) std::printf(", priority %d", r.priority);
        std::printf(", from %s", r.source.c_str());
        if (!r.team.empty()) std::printf(" (team %s)", r.team.c_str());
        std::printf("\n");
      }
  // Members the keeper found crash-looping in the last minute.
  Query cl;
  cl.segments = {segments::kConflicts};
  cl.all_tags = {"crash_loop"};
  cl.limit = 0;
  std::map<std::string, std::string> looping;
  if (auto found = (*pool)->Find(cl); found.ok())
    for (const Entry& e : *found)
      if (NowRealNs() - e.created_ns < 60'000'000'000LL)
        if (auto rec = PayloadToJson(e.payload); rec.ok() && rec->is_object())
          looping[rec->value("member", "?")] = rec->value("reason", "");
  for (const auto& [member, why] : looping)
    std::printf("crash-looping: %s\n", why.c_str());
  if (st.ok() && st->tasks_by_state[static_cast<int>(TaskState::kHeld)] != 0)
    std::printf("tasks held for a person: slate-launch review --pool %s\n", o.pool.c_str());
  return 0;
}

int ScaleService(const ServiceOptions& o) {
  if (o.workers == 0 || o.workers > 512) return Fail("scale to 1 to 512 workers", 2);
  const json state = LoadState(o.pool);
  if (!KeeperAlive(state)) return Fail("no group is running on pool '" + o.pool + "'");
  if (!state.value("scalable", true))
    return Fail("the group runs as its --group file describes it, with workers of several "
                "kinds; scale is for a group of one kind", 2);
  if (Status s = SendControl(o.pool, {{"cmd", "scale"}, {"workers", o.workers}}); !s.ok())
    return Fail(s.message());
  // Done when that many workers are alive (removed ones drain first).
  auto pool = Pool::Open(o.pool, OpenMode::kReadOnly);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeout_ms);
  while (pool.ok() && std::chrono::steady_clock::now() < until) {
    auto agents = (*pool)->ListAgents(5s);
    uint32_t workers = 0;
    if (agents.ok())
      for (const auto& a : *agents)
        workers += a.role == AgentRole::kWorker && a.liveness == Liveness::kAlive;
    if (workers == o.workers) {
      std::printf("slate-launch: group '%s' has %u workers\n", o.pool.c_str(), workers);
      return 0;
    }
    std::this_thread::sleep_for(50ms);
  }
  return Fail("the group did not reach " + std::to_string(o.workers) + " workers in time");
}

int ServiceLogs(const ServiceOptions& o) {
  const std::string dir = RuntimeDir(o.pool) + "/logs";
  if (!fs::is_directory(dir)) return Fail("no logs for pool '" + o.pool + "' in " + dir);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().stem().string();
    if (o.member.empty() || name == o.member) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return Fail("no log for member '" + o.member + "'");
  std::vector<std::streamoff> offsets(files.size(), 0);
  do {
    for (size_t i = 0; i < files.size(); ++i) {
      std::ifstream in(files[i]);
      in.seekg(offsets[i]);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.empty()) continue;
      if (files.size() > 1) std::printf("==> %s <==\n", fs::path(files[i]).stem().c_str());
      std::fwrite(text.data(), 1, text.size(), stdout);
      offsets[i] += static_cast<std::streamoff>(text.size());
    }
    std::fflush(stdout);
    if (o.follow) std::this_thread::sleep_for(200ms);
  } while (o.follow);
  return 0;
}

// stop --drain: waits until no request is active. False when interrupted
// (the group is left running) or the pool cannot be read.
bool Drain(const ServiceOptions& o, const json& state) {
  auto pool = Pool::Open(o.pool, OpenMode::kReadOnly);
  if (!pool.ok()) {
    Fail(pool.status().message());
    return false;
  }
  std::atomic<bool>& stop = InstallStopSignals();
  size_t said = SIZE_MAX;
  while (!stop.load() && KeeperAlive(state)) {
    Query q;
    q.segments = {supervisor::kRequestsSegment};
    q.all_tags = {"active"};
    q.limit = 0;
    q.with_payload = false;
    auto active = (*pool)->Find(q);
    if (!active.ok()) {
      Fail(active.status().message());
      return false;
    }
    if (active->empty()) return true;
    if (active->size() != said)
      std::fprintf(stderr, "slate-launch: waiting for %zu request(s) to finish (Ctrl-C: stop "
                           "waiting, leave the group running)\n", active->size());
    said = active->size();
    std::this_thread::sleep_for(200ms);
  }
  if (stop.load()) {
    std::fprintf(stderr, "slate-launch: stop --drain interrupted; the group goes on\n");
    return false;
  }
  return true;  // the keeper went meanwhile: nothing is left to drain
}

int StopService(const ServiceOptions& o) {
  const json state = LoadState(o.pool);
  if (!KeeperAlive(state)) return RemoveLeftovers(o);
  if (o.drain && !Drain(o, state)) return 1;
  const pid_t keeper = state["keeper_pid"].get<int>();
  if (!SendControl(o.pool, {{"cmd", "stop"}, {"keep", o.keep}}).ok()) kill(keeper, SIGTERM);
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeout_ms) + 5s;
  while (KeeperAlive(state) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  if (KeeperAlive(state)) {  // it hangs: stop everything by force
    kill(keeper, SIGKILL);
    for (const auto& m : state["members"]) kill(m["pid"].get<int>(), SIGKILL);
    fs::remove(StatePath(o.pool));
    if (!o.keep) (void)Pool::Remove(o.pool);
    return Fail("the keeper did not stop in time; the group was killed");
  }
  std::printf("slate-launch: group '%s' stopped%s\n", o.pool.c_str(), o.keep ? " (pool kept)" : "");
  return 0;
}

}  // namespace slate::launch
