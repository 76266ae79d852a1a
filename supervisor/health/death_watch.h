// Learns of a member's death when it happens. A thread keeps a pidfd for
// every registered worker and coordinator (opened once per registration,
// checked against its start time, so pid reuse cannot fool it) and sleeps
// in poll() on them; when one turns readable the process has exited, and
// the thread deregisters it at once: its running tasks go back to the
// supervisor's backlog recorded "lost" (their claims are stale from then
// on), its queued ones with them. The supervisor's main loop wakes on that
// change and delegates them again.
//
// WorkerHealth::Sweep still runs: it covers hung workers, expired leases,
// and a death the watch missed (an agent that registered and died between
// two refreshes). Deregistering twice is harmless: the second finds the
// row gone (the generation fences a reused row).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "slate/pool.h"

namespace slate::supervisor {

class DeathWatch {
 public:
  // Starts watching the members of `team` (agent.h); `me` is their
  // supervisor, heir of the dead's tasks.
  DeathWatch(Pool& pool, AgentRef me, std::string team = "");
  ~DeathWatch();  // stops the thread and closes every pidfd
  DeathWatch(const DeathWatch&) = delete;
  DeathWatch& operator=(const DeathWatch&) = delete;

  // Deaths it acted on so far.
  uint64_t deaths() const { return deaths_.load(); }

 private:
  void Loop();

  Pool& pool_;
  AgentRef me_;
  std::string team_;
  int stop_fd_ = -1;  // an eventfd: written to stop the thread
  std::atomic<uint64_t> deaths_{0};
  std::thread thread_;
};

}  // namespace slate::supervisor
