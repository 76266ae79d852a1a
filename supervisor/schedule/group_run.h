// The supervisor's run over every request it holds: it delegates their
// ready tasks to live workers, most urgent first with a fair share between
// requests (fair_share.h), lets urgent work preempt (preemption.h), takes
// work back from dead or hung workers (worker_health.h), retries failures
// with backoff, applies on_exhausted, and reports each request on its own
// the moment all its tasks are final (request_report.h).
//
// All its state that matters is in the pool: a successor resumes every
// request from there. What it keeps in memory (retry times, when a
// request was last served) only shapes timing and order.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "schedule/delegator.h"
#include "schedule/preemption.h"
#include "request/request_state.h"
#include "slate/entry_cursor.h"
#include "slate/pool.h"
#include "supervisor_app.h"
#include "schedule/urgency.h"
#include "health/worker_health.h"

namespace slate::supervisor {

class GroupRun {
 public:
  // serve: requests are admitted as they are submitted, until stopped;
  // else the run ends when the requests admitted before Run() end.
  GroupRun(const SupervisorConfig& cfg, Pool& pool, AgentRef me, Policy policy, bool serve);

  // Takes a request whose tasks are posted into the run.
  Status Admit(RequestRecord req);
  // Where a submitted request's tasks come from (serve): by default its
  // source file, read again (ReadRequest).
  using TaskSource = std::function<Result<std::vector<TaskDef>>(const RequestRecord&)>;
  void SetTaskSource(TaskSource source) { source_ = std::move(source); }
  // Without serve: the exit status of the last request to finish (kExitOk
  // or kExitPartial, kExitFailed), or kExitInternal when stopped or on an
  // error (the requests stay in the pool to be resumed). With serve: 0
  // after a stop, kExitInternal on an error.
  int Run(const std::atomic<bool>& stop);

 private:
  // A request's part of one delegation pass: its range of the backlog,
  // read a chunk at a time and ranked by urgency.
  struct Stream {
    RequestState* req = nullptr;  // null: tasks older than every request's
    TaskIdRange range;
    std::vector<TaskId> ids;  // backlog ids, in the order to rank them
    size_t heads = 0;         // how many of ids lead (aging)
    size_t read = 0;          // ids ranked so far
    std::vector<Ranked> chunk;
    size_t next = 0;          // chunk[next] is its head
  };

  void WaitForWorkers(const std::atomic<bool>& stop);
  // Serve: posts and admits the requests submitted since the last look.
  // `stats`: read before it looks (its next_id bounds what it can miss).
  Status AdmitSubmitted(const PoolStats& stats);
  EntryId requests_floor_ = 0;  // every request record up to it was looked at
  Status Tick();
  Status RenewLead();
  Status HandleFailures();
  Status Exhausted(TaskId id, const std::string& reason);
  Result<bool> FailFast(RequestState& req, const TaskInfo& failed);
  Status RetryDue();
  std::chrono::milliseconds NextWake() const;
  int64_t BackoffNs(uint32_t attempts);
  RequestState* OwnerOf(TaskId id);
  bool OfMyTeam(TaskId id);

  AgentRef Place(TaskId id);
  Status Delegate();
  std::vector<Stream> Streams();
  // Its next chunk, if any is left and a worker has room for more.
  Status Refill(Stream& s, const std::vector<WorkerView>& workers);
  // The tasks on workers of each stream (by their ranges).
  std::vector<uint32_t> OnWorkers(const std::vector<Stream>& streams,
                                  const std::vector<WorkerView>& workers);
  // Whether the task went to a worker (a free one, or one it preempts by
  // its priority); urgency: the one it keeps while it runs (preemption.h).
  Result<bool> PlaceOne(const Ranked& r, int64_t urgency, std::vector<WorkerView>& workers,
                        int64_t now);
  Result<std::vector<TaskId>> BacklogIds(TaskIdRange range, uint32_t limit, size_t* heads);

  // The requests whose every task is final, each with its plan's posts so
  // far. Looked at only when a task became final or left the pool since
  // the last look: at once when the pool has no unfinished task, else at
  // most every few milliseconds.
  Result<std::vector<std::pair<RequestState*, uint64_t>>> Ending(const PoolStats& st);
  // Reports a finished request and lets it go; its exit status.
  int Finish(RequestState* r);

  const SupervisorConfig& cfg_;
  Pool& pool_;
  AgentRef me_;
  bool serve_;
  HealthConfig health_cfg_;
  WorkerHealth health_;
  Delegator delegator_;
  Preemption preemption_;
  std::mt19937_64 rng_;
  EntryCursor failures_;
  std::map<TaskId, int64_t> retry_at_;
  std::map<TaskId, int64_t> waiting_since_;
  std::vector<std::unique_ptr<RequestState>> requests_;  // in admission order
  std::map<EntryId, int64_t> admitted_ns_;  // monotonic, by request entry
  std::map<EntryId, int64_t> served_ns_;    // last placement or idle moment
  int64_t swept_ns_ = 0;
  int64_t lead_renewed_ns_ = 0;
  int64_t looked_ns_ = 0;  // serve: last look for submitted requests
  std::pair<uint64_t, uint64_t> requests_mark_{UINT64_MAX, 0};  // at that look
  // The pool's final and total task counts when the requests were last
  // looked at for their end.
  static constexpr std::pair<uint64_t, uint64_t> kLookAgain{UINT64_MAX, 0};
  std::pair<uint64_t, uint64_t> looked_at_ = kLookAgain;
  int64_t end_looked_ns_ = 0;
  bool end_look_due_ = false;  // counts changed since, the look deferred
  int last_rc_ = kExitOk;
  TaskSource source_;
};

}  // namespace slate::supervisor
