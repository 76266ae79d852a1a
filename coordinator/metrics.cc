#include "metrics.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace slate::coordinator {
namespace {

void Line(std::string* out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void Line(std::string* out, const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  *out += buf;
  *out += "\n";
}

}  // namespace

void Metrics::SetPool(const PoolStats& stats, const std::vector<AgentInfo>& agents) {
  std::lock_guard<std::mutex> l(mu_);
  stats_ = stats;
  workers_alive_ = 0;
  for (const auto& a : agents)
    if (a.role == AgentRole::kWorker && a.liveness == Liveness::kAlive) ++workers_alive_;
}

void Metrics::AddCompletion(double latency_s) {
  std::lock_guard<std::mutex> l(mu_);
  ++completions_;
  latency_sum_ += latency_s;
  size_t b = 0;
  while (b < kLatencyBuckets.size() && latency_s > kLatencyBuckets[b]) ++b;
  ++buckets_[b];
}

void Metrics::AddFailure() {
  std::lock_guard<std::mutex> l(mu_);
  ++failures_;
}

void Metrics::AddConflict() {
  std::lock_guard<std::mutex> l(mu_);
  ++conflicts_;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  Line(&out, "# HELP slate_tasks Tasks in the pool by state.");
  Line(&out, "# TYPE slate_tasks gauge");
  for (int s = 1; s < kTaskStateCount; ++s)
    Line(&out, "slate_tasks{state=\"%s\"} %" PRIu64, TaskStateName(static_cast<TaskState>(s)),
         stats_.tasks_by_state[s]);
  Line(&out, "# HELP slate_task_completions_total Task results recorded.");
  Line(&out, "# TYPE slate_task_completions_total counter");
  Line(&out, "slate_task_completions_total %" PRIu64, completions_);
  Line(&out, "# HELP slate_task_failures_total Failed task attempts recorded.");
  Line(&out, "# TYPE slate_task_failures_total counter");
  Line(&out, "slate_task_failures_total %" PRIu64, failures_);
  Line(&out, "# HELP slate_task_latency_seconds From posting a task to recording its result.");
  Line(&out, "# TYPE slate_task_latency_seconds histogram");
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kLatencyBuckets.size(); ++b) {
    cumulative += buckets_[b];
    Line(&out, "slate_task_latency_seconds_bucket{le=\"%g\"} %" PRIu64, kLatencyBuckets[b],
         cumulative);
  }
  cumulative += buckets_.back();
  Line(&out, "slate_task_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64, cumulative);
  Line(&out, "slate_task_latency_seconds_sum %.6f", latency_sum_);
  Line(&out, "slate_task_latency_seconds_count %" PRIu64, cumulative);
  Line(&out, "# HELP slate_workers_alive Workers registered and alive.");
  Line(&out, "# TYPE slate_workers_alive gauge");
  Line(&out, "slate_workers_alive %u", workers_alive_);
  Line(&out, "# HELP slate_pool_bytes_used Data bytes in use in the pool.");
  Line(&out, "# TYPE slate_pool_bytes_used gauge");
  Line(&out, "slate_pool_bytes_used %" PRIu64, stats_.data_bytes_used);
  Line(&out, "# HELP slate_pool_entries Entries in the pool.");
  Line(&out, "# TYPE slate_pool_entries gauge");
  Line(&out, "slate_pool_entries %" PRIu64, stats_.entries);
  Line(&out, "# HELP slate_evictions_total Entries evicted to make room.");
  Line(&out, "# TYPE slate_evictions_total counter");
  Line(&out, "slate_evictions_total %" PRIu64, stats_.evictions);
  Line(&out, "# HELP slate_recoveries_total Pool recoveries after a lock holder died.");
  Line(&out, "# TYPE slate_recoveries_total counter");
  Line(&out, "slate_recoveries_total %" PRIu64, stats_.recoveries);
  Line(&out, "# HELP slate_conflicts_total Entries in segment conflicts seen.");
  Line(&out, "# TYPE slate_conflicts_total counter");
  Line(&out, "slate_conflicts_total %" PRIu64, conflicts_);
  return out;
}

}  // namespace slate::coordinator
