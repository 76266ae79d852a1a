// The members of a group started by slate-launch: child processes it
// forked and must stop. Every member gets SIGTERM when slate-launch dies
// (PR_SET_PDEATHSIG), so none can outlive it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "slate/status.h"

namespace slate::launch {

struct Member {
  std::string name;  // for messages: "worker-3", "supervisor"
  std::vector<std::string> argv;
  std::vector<std::string> restart_argv;  // how a restart runs it
  bool discard_stdout = false;
  std::string log_path;   // stdout and stderr appended here, if set
  bool retired = false;   // stopped on purpose (scaled down): never restarted
  pid_t pid = -1;
  int status = 0;    // wait status once exited
  bool exited = false;
  uint32_t restarts = 0;
  std::chrono::steady_clock::time_point started_at;  // of its latest start
  int pidfd = -1;  // readable once it exits; -1 once reaped (or unsupported)
};

class ProcessGroup {
 public:
  ~ProcessGroup();  // stops whatever is still running

  // Starts argv[0] (a path) with argv; stderr is inherited, stdout too
  // unless discarded. A restart runs restart_argv (argv if empty).
  Result<size_t> Start(const std::string& name, const std::vector<std::string>& argv,
                       std::vector<std::string> restart_argv = {},
                       bool discard_stdout = false, const std::string& log_path = "");
  // SIGTERM to one member, marked retired so it is not restarted.
  void Retire(size_t index);
  Member& mutable_member(size_t i) { return members_[i]; }
  // Starts an exited member again, with its restart_argv.
  Status Restart(size_t index);
  // Reaps exited members without blocking; returns those newly exited.
  std::vector<size_t> Reap();
  // Sleeps until a member exits or the timeout passes, whichever is
  // first: a poll() on the members' pidfds, so a death is seen at once.
  void WaitForExit(std::chrono::milliseconds timeout) const;
  // SIGTERM to every running member, then SIGKILL after grace; reaps all.
  void StopAll(std::chrono::milliseconds grace);
  const Member& member(size_t i) const { return members_[i]; }
  size_t size() const { return members_.size(); }

 private:
  std::vector<Member> members_;
};

// The folder holding slate-launch itself (its siblings are there too).
std::string SelfDirectory();

// "exit 3", "killed by signal 9".
std::string DescribeWaitStatus(int status);

}  // namespace slate::launch
