// Real processes for the bench: fork a child that runs a function and exits,
// a start gate every child reports to, and a shared page for stop flags.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

namespace slate::bench {

// Memory shared with children forked after it is made (MAP_SHARED, anonymous).
// Unmapped on destruction in each process.
class SharedPage {
 public:
  explicit SharedPage(size_t bytes);
  ~SharedPage();
  SharedPage(const SharedPage&) = delete;
  SharedPage& operator=(const SharedPage&) = delete;
  void* data() const { return data_; }
  size_t size() const { return bytes_; }

 private:
  void* data_;
  size_t bytes_;
};

// Forked children. Each runs `body` and _exits with its return value; a
// child never returns into the caller's code. The destructor stops and
// reaps any child still running (SIGKILL after the grace period).
class Children {
 public:
  Children();
  ~Children();
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;

  // Forks; the child signals readiness by calling Ready() before its loop.
  pid_t Spawn(const std::function<int()>& body);
  // In a child: tells the parent it is set up.
  void Ready();
  // In the parent: blocks until every spawned child has called Ready (or
  // exited). False if one exited first.
  bool AwaitReady();
  // SIGTERM to each child, then waits. True when all exited 0.
  bool StopAll();
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  int pipe_[2];
  std::vector<pid_t> pids_;
};

// Installs a SIGTERM handler that sets the returned flag (no SA_RESTART, so
// a blocking wait returns early). For children.
std::atomic<bool>& StopFlag();

}  // namespace slate::bench
