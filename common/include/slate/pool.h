// slate's pool: a crash-safe shared-memory blackboard for one host.
//
// One Pool object is one attachment of this process to a named region. Every
// method is thread-safe (the region's robust mutex serialises them across
// threads and processes) and noexcept in spirit: errors come back as Status.
//
// Crash safety: any process may be SIGKILLed at any instruction, also inside
// a method below while it holds the lock. The next caller in any process
// rolls back the dead holder's unfinished transaction, rebuilds derived
// structures, logs one warning and carries on (Stats().recoveries counts it).
// A method that returned ok has committed; one that did not return may or
// may not have, never half.
//
// Read-only attachments map the region read-only and never take the lock:
// their reads work on a private snapshot validated by the region's change
// sequence, so they cannot disturb, or be blocked by, the group.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "slate/agent.h"
#include "slate/entry.h"
#include "slate/pool_options.h"
#include "slate/stats.h"
#include "slate/status.h"
#include "slate/task.h"

namespace slate {

enum class OpenMode { kReadWrite, kReadOnly };

class Pool {
 public:
  // Creates the region exclusively: fails if the name exists.
  static Result<std::unique_ptr<Pool>> Create(const PoolOptions& options);
  // Attaches to an existing region after checking owner, mode, magic, layout
  // version and size.
  static Result<std::unique_ptr<Pool>> Open(const std::string& name,
                                            OpenMode mode = OpenMode::kReadWrite);
  // Removes the name. Attached processes keep their mapping until they close.
  static Status Remove(const std::string& name);
  // True while the name exists (an attachment outlives the name's removal).
  static bool Exists(const std::string& name);

  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  const std::string& name() const;
  bool read_only() const;
  // Read-only attachments copy the region for each read. Reads within
  // max_age of the last copy reuse it (a monitor sets one refresh period).
  // Default 0: every read sees a fresh copy.
  void SetSnapshotMaxAge(std::chrono::milliseconds max_age);

  // ---- entries ----------------------------------------------------------
  // Writes a new entry; evicts evictable entries if the pool is full.
  Result<EntryId> Write(const NewEntry& entry);
  Result<Entry> Read(EntryId id) const;
  Status Update(EntryId id, const EntryUpdate& update);
  // Removes an entry. Refused for unfinished tasks and registered agents.
  Status Erase(EntryId id);
  Result<std::vector<Entry>> Find(const Query& query) const;
  // Returns matches as soon as there are any, or an empty list when timeout
  // passes first or a signal arrives. Sleeps on a futex between checks: no
  // polling.
  Result<std::vector<Entry>> Wait(const Query& query,
                                  std::chrono::milliseconds timeout) const;
  // Find and Wait into *out (replacing its contents), reusing the storage
  // of the entries already there: a caller that passes the same vector
  // each time allocates nothing once it has grown. *out is empty on error.
  Status FindInto(const Query& query, std::vector<Entry>* out) const;
  Status WaitInto(const Query& query, std::chrono::milliseconds timeout,
                  std::vector<Entry>* out) const;
  // A result was aggregated / an error was handled / a kept entry is no
  // longer needed: each may now be evicted.
  Status MarkAggregated(EntryId result_id);
  Status Resolve(EntryId error_id);
  Status Release(EntryId kept_id);

  // ---- tasks ------------------------------------------------------------
  Result<TaskId> PostTask(const TaskSpec& spec);
  // Posts several tasks under one lock hold, in order, each its own
  // transaction (a crash loses none of those already posted). Appends each
  // posted id to *ids; stops at the first that fails and returns why.
  Status PostTasks(std::span<const TaskSpec> specs, std::vector<TaskId>* ids);
  Result<TaskInfo> GetTask(TaskId id) const;
  // GetTask for many at once, under one hold of the lock (a supervisor's
  // backlog); ids that are not tasks in the pool are left out.
  Result<std::vector<TaskInfo>> GetTasks(std::span<const TaskId> ids) const;
  // Claims the next task of `agent`: its own queue first, then the shared
  // queue (tasks it has the capability for). nullopt when there is none.
  Result<std::optional<Claim>> ClaimNext(AgentRef agent,
                                         std::chrono::milliseconds lease);
  // As ClaimNext, but sleeps until a task arrives, timeout passes or a
  // signal arrives (then nullopt).
  Result<std::optional<Claim>> WaitClaim(AgentRef agent,
                                         std::chrono::milliseconds lease,
                                         std::chrono::milliseconds timeout);
  // ClaimNext up to `max` times under one lock hold. *out is replaced by
  // the claims made, in claim order; empty when there was none.
  Status ClaimBatch(AgentRef agent, std::chrono::milliseconds lease,
                    size_t max, std::vector<Claim>* out);
  // As ClaimBatch, sleeping as WaitClaim does while there is none.
  Status WaitClaimBatch(AgentRef agent, std::chrono::milliseconds lease,
                        size_t max, std::chrono::milliseconds timeout,
                        std::vector<Claim>* out);
  // `by`, when given, names the caller in records (result author, conflict
  // evidence); it is not checked against the claim: the epoch is the fence.
  Status RenewLease(TaskId id, uint32_t epoch, std::chrono::milliseconds lease,
                    AgentRef by = kSharedQueue);
  // Records the result and marks the task done, atomically, if epoch is the
  // task's current claim. Otherwise kStaleEpoch, and the refusal is recorded
  // in segment "conflicts".
  Result<EntryId> Complete(TaskId id, uint32_t epoch, const TaskResult& result,
                           AgentRef by = kSharedQueue);
  // Complete for each item under one lock hold, each its own transaction.
  // *out is replaced by one outcome per item, in order.
  void CompleteBatch(std::span<const Completion> items, AgentRef by,
                     std::vector<Result<EntryId>>* out);
  // Marks a running task failed and records the error in segment "errors".
  Status Fail(TaskId id, uint32_t epoch, const std::string& error,
              AgentRef by = kSharedQueue);
  // Moves a pending or running task to another queue. A running claim
  // becomes stale, and the loss is recorded in "errors" (tags "lost",
  // "task:<id>") with `reason`. The target must have the capability.
  Status Reassign(TaskId id, AgentRef target, const std::string& reason = "");
  // Puts a failed task back to pending in target's queue.
  Status Retry(TaskId id, AgentRef target);
  // Ends a non-final task as dead-lettered, recording reason in "errors".
  Result<EntryId> DeadLetter(TaskId id, const std::string& reason);
  // Ends a non-final task in `end` (dead-lettered, skipped or cancelled),
  // recording reason in "errors" (tags: the state's name as
  // "dead-letter"|"skipped"|"cancelled", and "task:<id>"). A running task's
  // claim becomes stale: its completion is refused and recorded.
  Result<EntryId> EndTask(TaskId id, TaskState end, const std::string& reason);
  // Moves a waiting task to target's pending queue.
  Status MakeReady(TaskId id, AgentRef target);
  // Takes a running task from its holder for more urgent work: pending in
  // target's queue, its claim stale (the holder is woken to notice), a
  // record tagged "preempted" and "task:<id>" in "errors", and one more
  // attempt allowed, so a preemption never uses up a retry.
  Status Preempt(TaskId id, AgentRef target, const std::string& reason);
  // Sleeps until a task the agent runs is taken from it (preempted,
  // cancelled, reassigned), WakeTakenBackWaiter is called, or the timeout
  // passes: what a worker's heartbeat thread waits on, so it stops such a
  // task at once. Not woken by tasks queued for the agent. Lock-free.
  void AwaitTakenBack(AgentRef agent, std::chrono::milliseconds timeout);
  void WakeTakenBackWaiter(AgentRef agent);
  // ---- checkpoints: a running task's saved progress ----
  // Saves the checkpoint of a claim's holder, replacing the task's previous
  // one in one transaction. Fenced by the claim: refused (kStaleEpoch,
  // recorded as a conflict) once the task is claimed again or ends; a
  // preempted holder may still save on its way out. It
  // is an entry in "checkpoints" tagged "checkpoint" and "task:<id>",
  // authored by the holder, kept until the task ends (done, dead-lettered,
  // cancelled, skipped), which drops it. Every later attempt reads it back:
  // after a preemption, its worker's death or a retry.
  Result<EntryId> SaveCheckpoint(TaskId id, uint32_t epoch, const std::vector<uint8_t>& payload,
                                 AgentRef by);
  // The task's checkpoint; kNotFound when it has none.
  Result<Entry> LastCheckpoint(TaskId id) const;
  // ---- review: a task held for a person ----
  // Holds a failed, pending or waiting task: in no queue, claimable by
  // nobody, not final. Records reason in "errors" (tags "held",
  // "task:<id>") with the task's history, as EndTask does.
  Result<EntryId> Hold(TaskId id, const std::string& reason);
  // A person's retry: the held task goes to target's pending queue, allowed
  // as many attempts again as it had (up to 255 in all).
  Status ResumeHeld(TaskId id, AgentRef target);
  // A person's answer: the held task is done with `result` as its result,
  // authored by `author`. (A person's reject is EndTask.)
  Result<EntryId> AcceptHeld(TaskId id, const TaskResult& result, const std::string& author);
  // Pending tasks of a queue in claim order; running tasks of an agent in
  // ascending id order.
  // per_priority: at most this many of each priority (0: all); with 1, the
  // oldest of each, wherever it sits in a long queue (aging).
  // ids: only tasks with lo <= id < hi (one request's share of a backlog).
  // Each priority's list is entered from whichever end reaches lo first,
  // so a range costs min(tasks below lo, tasks from lo) steps to find,
  // then only what it returns.
  Result<std::vector<TaskId>> PendingTasks(AgentRef queue, uint32_t limit,
                                           uint32_t per_priority = 0,
                                           TaskIdRange ids = {}) const;
  Result<std::vector<TaskId>> RunningTasks(AgentRef agent) const;
  // Running tasks, of every agent, whose lease has expired.
  Result<std::vector<TaskInfo>> ExpiredLeases() const;

  // ---- agents -----------------------------------------------------------
  // kAlreadyExists for a name in use, or for a team's supervisor while
  // another supervisor of that team lives (checked in one hold of the lock).
  Result<AgentRef> RegisterAgent(const AgentSpec& spec);
  // Lock-free; cheap enough to call every few milliseconds.
  Status Heartbeat(AgentRef agent);
  // Hands its pending and running tasks to `heir` (the shared queue unless
  // told; running ones recorded as lost with `reason`), then frees its row
  // and erases its entry. Works on a dead agent.
  Status Deregister(AgentRef agent, AgentRef heir = kSharedQueue,
                    const std::string& reason = "");
  // Registered agents with liveness; kStale when the heartbeat is older
  // than stale_after.
  Result<std::vector<AgentInfo>> ListAgents(
      std::chrono::milliseconds stale_after) const;
  // The leading supervisor's row while it lives, else the shared queue:
  // where work handed back (by a leaving worker, or a person's retry) goes.
  AgentRef LiveSupervisorOrShared() const;
  // The same for a team of a supervision tree (agent.h): the supervisor
  // registered for `team`, a live one first; one that died still holds
  // what it is handed until its successor adopts it. "" is the top level:
  // LiveSupervisorOrShared().
  AgentRef TeamSupervisorOrShared(const std::string& team) const;

  // ---- leadership -------------------------------------------------------
  // The supervisors' lead: one term at a time, held by one agent, taken
  // and renewed under the lock, so two supervisors started at once cannot
  // both lead. Takes the lead for `lease` when nobody holds it, or its
  // holder left, died (pid and start time) or let its lease run out (a new
  // term), or renews it when `me` holds it. held_term: the term `me` holds
  // (0: none yet); when the lead has moved on since, kStaleTerm, and
  // nothing changes: a leader that lost its term never gets a new one by
  // renewing. kAlreadyExists names the live leader. Returns the term.
  Result<uint64_t> AcquireLeadership(AgentRef me, std::chrono::milliseconds lease,
                                     uint64_t held_term = 0);
  Result<LeaderInfo> Leader() const;
  // Fences every later operation through this handle that takes the
  // pool's lock, reads included, by `me`'s lead in `term`: checked under
  // the lock, in the same hold as the operation, so no change is ever made
  // in a term that is over. A refusal returns kStaleTerm, naming the
  // current term and its holder, and is recorded: a "stale_term" entry in
  // "conflicts" and PoolStats::lead_refused. For a leader's handle, set
  // once after AcquireLeadership, before other threads use the handle.
  void FenceByLead(AgentRef me, uint64_t term);

  // ---- inspection -------------------------------------------------------
  Result<PoolStats> Stats() const;
  // Every invariant violation found; empty means the pool is sound.
  std::vector<std::string> Check() const;
  // kCorrupt when another process shrank the region's file under this
  // mapping (touching the lost part would be SIGBUS, which ends the process
  // with kExitRegionLost). One fstat: for periodic loops, not per operation.
  Status CheckMapping() const;

  class Impl;

 private:
  explicit Pool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slate
