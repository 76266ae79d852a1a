// slate itself under the bench: a producer in the supervisor's role and
// worker processes over one real pool, speaking the full task protocol
// (post, claim with a lease, complete with a result entry, the producer
// reading each result).
#pragma once

#include <cstdint>
#include <vector>

#include "slate/internal/lock_profile.h"

namespace slate::bench {

struct ProtocolOptions {
  int batch = 64;        // tasks a worker claims / completes per lock hold
  int post_batch = 256;  // tasks the producer posts per lock hold
  uint64_t seed = 1;
  // Profile the pool lock in every process of the round (lock_profile.h).
  // REQUIRES: internal::EnableLockProfile(true) called before.
  bool lock_profile = false;
  // How a post batch is spread over the workers: task by task (round-robin,
  // as the supervisor's default policy does), or in one run of neighbouring
  // tasks per worker, so each worker's tasks sit in neighbouring slots.
  bool blocks = false;
};

struct ThroughputRound {
  double tasks_per_s = 0;
  double seconds = 0;  // first post to last result read
  // All processes' holds, producer from first post to last result, workers
  // from ready to stopped (they are idle outside the round). Empty unless
  // ProtocolOptions::lock_profile.
  internal::LockProfile lock;
};

// N no-op tasks with 64-byte payloads and results through `workers`
// workers, round-robin by task or by block (ProtocolOptions::blocks);
// first post to last result read.
ThroughputRound SlateThroughput(int workers, uint64_t tasks, const ProtocolOptions& o);

// Latency figures rest on at least this many round trips, past the time
// given if need be (slate's, and the futex baseline's).
inline constexpr uint64_t kMinLatencySamples = 200;

// One worker, one task in flight: post, then wait for its result. Round
// trips in microseconds, after a warm-up.
std::vector<double> SlateLatency(double seconds, uint64_t max_samples,
                                 const ProtocolOptions& o);

}  // namespace slate::bench
