#include "util/test_pool.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <msgpack.hpp>
#include <stdexcept>
#include <thread>

namespace slate::testing {

std::string UniquePoolName(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "t-" + tag + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

PoolOptions SmallOptions(const std::string& tag) {
  PoolOptions o;
  o.name = UniquePoolName(tag);
  o.slot_capacity = 1024;
  o.data_bytes = 1 << 20;
  o.max_payload = 64 << 10;
  o.agent_capacity = 16;
  return o;
}

ScopedPool::ScopedPool(const PoolOptions& options) : name_(options.name) {
  (void)Pool::Remove(name_);
  auto p = Pool::Create(options);
  if (!p.ok()) throw std::runtime_error(p.status().ToString());
  pool_ = std::move(p).value();
}

ScopedPool::~ScopedPool() {
  pool_.reset();
  (void)Pool::Remove(name_);
}

namespace {
std::vector<uint8_t> Bytes(const msgpack::sbuffer& b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return {p, p + b.size()};
}
}  // namespace

std::vector<uint8_t> PackStr(const std::string& s) {
  msgpack::sbuffer b;
  msgpack::pack(b, s);
  return Bytes(b);
}

std::vector<uint8_t> PackInt(int64_t v) {
  msgpack::sbuffer b;
  msgpack::pack(b, v);
  return Bytes(b);
}

std::string UnpackStr(const std::vector<uint8_t>& bytes) {
  auto h = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return h.get().as<std::string>();
}

int64_t UnpackInt(const std::vector<uint8_t>& bytes) {
  auto h = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return h.get().as<int64_t>();
}

NewEntry MakeEntry(const std::string& segment, std::vector<std::string> tags,
                   float importance, const std::string& author,
                   const std::string& payload) {
  NewEntry e;
  e.segment = segment;
  e.tags = std::move(tags);
  e.importance = importance;
  e.author = author;
  e.payload = PackStr(payload);
  return e;
}

bool Mentions(const std::vector<std::string>& report, const std::string& what) {
  for (const auto& line : report)
    if (line.find(what) != std::string::npos) return true;
  return false;
}

std::map<EntryId, int> ResultsPerTask(Pool& pool) {
  Query q;
  q.segments = {segments::kResults};
  q.limit = 0;
  q.with_payload = false;
  std::map<EntryId, int> out;
  for (const Entry& e : *pool.Find(q))
    if (e.task_id != 0) out[e.task_id] += 1;
  return out;
}

pid_t ForkChild(const std::function<int()>& fn) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(99);
  int rc = 98;
  try {
    rc = fn();
  } catch (...) {
    rc = 97;
  }
  _exit(rc);
}

int WaitChild(pid_t pid, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (std::chrono::steady_clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace slate::testing
