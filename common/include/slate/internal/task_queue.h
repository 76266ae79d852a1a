// Task queues (DERIVED): for each agent row and for the shared queue (row 0),
// pending tasks bucketed by priority, each bucket in ascending id order (so
// "highest priority, then oldest" is the head of the highest non-empty
// bucket), and a list of running tasks. Links are TaskFields::q_prev/q_next;
// a task is in at most one list. A bitmap finds the top bucket in O(1).
// REQUIRES: the pool mutex held (or a private snapshot).
#pragma once

#include <cstdint>

#include "slate/internal/region.h"

namespace slate::internal {

class TaskQueues {
 public:
  explicit TaskQueues(const Region& r) : r_(r) {}

  static uint32_t BucketOf(int priority) {
    return static_cast<uint32_t>(priority + 128);
  }
  // Adds a pending task to queue `row`, keeping its bucket in id order.
  void PushPending(uint32_t row, uint32_t slot);
  void RemovePending(uint32_t row, uint32_t slot);
  void PushRunning(uint32_t row, uint32_t slot);
  void RemoveRunning(uint32_t row, uint32_t slot);
  // Walking a list: its first task (kNil when empty) and the one after
  // `slot`, each checked to be in range and to point back (RegionCorrupt).
  uint32_t PendingHead(uint32_t row, int bucket) const;
  uint32_t RunningHead(uint32_t row) const;
  uint32_t Next(uint32_t slot) const;
  // The other way: a bucket's last task and the one before `slot`.
  uint32_t PendingTail(uint32_t row, int bucket) const;
  uint32_t Prev(uint32_t slot) const;
  // RegionCorrupt unless the slot is a live task in this state: a list
  // that holds anything else is damaged.
  void ExpectState(uint32_t slot, TaskState state) const;
  // Highest non-empty bucket of a queue, or -1.
  int TopBucket(uint32_t row) const;
  // Next lower non-empty bucket below `bucket`, or -1.
  int BucketBelow(uint32_t row, int bucket) const;

 private:
  TaskFields& T(uint32_t slot) const {
    return r_.CheckedSlot(slot, "task queue link").kind.task;
  }

  const Region& r_;  // outlives this helper
};

}  // namespace slate::internal
