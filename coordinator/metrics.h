// The coordinator's metrics, in Prometheus text format (version 0.0.4).
// Updated by the coordinator's loop, read by the HTTP server's thread:
// every method is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "slate/agent.h"
#include "slate/stats.h"

namespace slate::coordinator {

class Metrics {
 public:
  // Upper bounds (seconds) of the task latency histogram buckets, +Inf last.
  static constexpr std::array<double, 11> kLatencyBuckets = {
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

  void SetPool(const PoolStats& stats, const std::vector<AgentInfo>& agents);
  void AddCompletion(double latency_s);  // a task result recorded
  void AddFailure();                     // a failed attempt recorded
  void AddConflict();                    // an entry in "conflicts"
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  PoolStats stats_;               // guarded by mu_
  uint32_t workers_alive_ = 0;    // guarded by mu_
  uint64_t completions_ = 0;      // guarded by mu_
  uint64_t failures_ = 0;         // guarded by mu_
  uint64_t conflicts_ = 0;        // guarded by mu_
  std::array<uint64_t, kLatencyBuckets.size() + 1> buckets_{};  // guarded by mu_
  double latency_sum_ = 0;        // guarded by mu_
};

}  // namespace slate::coordinator
