#include "group_workloads.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "slate/clock.h"
#include "bench_pool.h"
#include "slate/pool.h"

namespace slate::bench {
namespace {

using std::chrono::milliseconds;

// Runs argv to completion with stdout and stderr sent to /dev/null.
int RunQuiet(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 1);
    dup2(null, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// User plus system CPU of every thread of pid, in clock ticks.
uint64_t CpuTicks(int pid) {
  uint64_t total = 0;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 2));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    total += utime + stime;
  }
  closedir(d);
  return total;
}

int ParentOf(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close_paren + 2));
  std::string state;
  int ppid = 0;
  rest >> state >> ppid;
  return ppid;
}


}  // namespace

JobShape MeasureJob(const JobOptions& o) {
  JobShape j;
  const std::string pool_name = BenchPoolName("job");
  const std::string mode = o.exec.empty() ? "--serve" : "--exec";
  const std::string& agent = o.exec.empty() ? o.serve : o.exec;
  const std::vector<std::string> args = {
      o.launcher, "run", "--pool", pool_name, "--keep", "--workers", std::to_string(o.workers),
      "--split", "files", mode, agent, o.input};
  j.command = "slate-launch run --workers " + std::to_string(o.workers) + " --split files " +
              mode + " \"" + agent + "\" " + o.input;
  const int64_t t0 = NowRealNs();
  j.exit_code = RunQuiet(args);
  const int64_t t3 = NowRealNs();
  auto pool = Pool::Open(pool_name, OpenMode::kReadOnly);
  if (!pool.ok()) throw std::runtime_error("job left no pool: " + pool.status().message());
  Query q;
  q.limit = 0;
  q.with_payload = false;
  q.segments = {"tasks"};
  auto tasks = (*pool)->Find(q);
  q.segments = {"results"};
  auto results = (*pool)->Find(q);
  pool->reset();
  (void)Pool::Remove(pool_name);
  if (!tasks.ok() || !results.ok() || tasks->empty() || results->empty())
    throw std::runtime_error("the job's pool holds no tasks or results");
  int64_t t1 = std::numeric_limits<int64_t>::max(), t2 = 0;
  for (const Entry& e : *tasks) t1 = std::min(t1, e.created_ns);
  for (const Entry& e : *results) t2 = std::max(t2, e.created_ns);
  j.tasks = tasks->size();
  j.startup_ms = static_cast<double>(t1 - t0) / 1e6;
  j.work_ms = static_cast<double>(t2 - t1) / 1e6;
  j.shutdown_ms = static_cast<double>(t3 - t2) / 1e6;
  j.total_ms = static_cast<double>(t3 - t0) / 1e6;
  return j;
}

IdleFigures MeasureIdle(const std::string& launcher, int workers, double seconds) {
  const std::string pool_name = BenchPoolName("idle");
  if (RunQuiet({launcher, "start", "--pool", pool_name, "--workers", std::to_string(workers),
                "--slots", "4096"}) != 0)
    throw std::runtime_error("slate-launch start failed");
  struct Stopper {
    std::string launcher, pool;
    ~Stopper() { RunQuiet({launcher, "stop", "--pool", pool}); }
  } stopper{launcher, pool_name};
  auto pool = Check(Pool::Open(pool_name));
  std::vector<int> pids;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pids.size() < static_cast<size_t>(workers) + 2) {
    if (std::chrono::steady_clock::now() > give_up)
      throw std::runtime_error("the idle group did not come up");
    std::this_thread::sleep_for(milliseconds(50));
    pids.clear();
    for (const auto& a : Check(pool->ListAgents(milliseconds(60'000)))) pids.push_back(a.pid);
  }
  pool.reset();
  pids.push_back(ParentOf(pids.front()));  // the keeper
  std::this_thread::sleep_for(milliseconds(500));  // settle after start-up
  auto total = [&] {
    uint64_t t = 0;
    for (int p : pids) t += CpuTicks(p);
    return t;
  };
  const uint64_t before = total();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t after = total();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  IdleFigures f;
  f.processes = static_cast<int>(pids.size());
  f.seconds = secs;
  // The kernel counts CPU time in clock ticks (schedstat is off on many
  // kernels), so the figure is only as fine as one tick over the window.
  const double tick_s = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  f.cpu_percent = 100.0 * static_cast<double>(after - before) * tick_s / secs;
  f.resolution_percent = 100.0 * tick_s / secs;
  return f;
}

}  // namespace slate::bench
