// Shared helpers for slate's tests: unique pools that clean up after
// themselves, msgpack shorthands, and forked children that cannot outlive
// the test.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slate/pool.h"

namespace slate::testing {

// A name no other test (or test process) uses: tag, pid and a counter.
std::string UniquePoolName(const std::string& tag);

// Small, quick pools: 1024 slots, 1 MiB of data, 64 KiB payloads.
PoolOptions SmallOptions(const std::string& tag);

// Creates a pool and removes its name when destroyed.
class ScopedPool {
 public:
  explicit ScopedPool(const PoolOptions& options);
  explicit ScopedPool(const std::string& tag) : ScopedPool(SmallOptions(tag)) {}
  ~ScopedPool();
  Pool& operator*() { return *pool_; }
  Pool* operator->() { return pool_.get(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::unique_ptr<Pool> pool_;
};

std::vector<uint8_t> PackStr(const std::string& s);
std::vector<uint8_t> PackInt(int64_t v);
std::string UnpackStr(const std::vector<uint8_t>& bytes);
int64_t UnpackInt(const std::vector<uint8_t>& bytes);

NewEntry MakeEntry(const std::string& segment, std::vector<std::string> tags = {},
                   float importance = 0.5f, const std::string& author = "t",
                   const std::string& payload = "x");

// Whether any line of a report (Pool::Check(), say) contains `what`.
bool Mentions(const std::vector<std::string>& report, const std::string& what);

// How many result entries each task has in the pool (task results only):
// the duplicate check of the crash and chaos tests.
std::map<EntryId, int> ResultsPerTask(Pool& pool);

// Forks a child that runs fn and _exits with its return value. The child
// dies with its parent (PR_SET_PDEATHSIG), so a failed test leaves no orphan.
pid_t ForkChild(const std::function<int()>& fn);
// Waits for a child; returns its wait status, or -1 after timeout_ms (then
// the child is SIGKILLed and reaped).
int WaitChild(pid_t pid, int timeout_ms = 20000);

}  // namespace slate::testing
