#include "slate/internal/task_queue.h"

#include <bit>

namespace slate::internal {

// Links are read once into locals and checked before they are followed; a
// neighbour that does not point back means damaged lists (RegionCorrupt).

void TaskQueues::PushPending(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.CheckedQueue(row, "task assignee");
  const uint32_t b = BucketOf(T(slot).priority);
  TaskQueue::Bucket& bucket = q.buckets[b];
  const uint64_t id = r_.slot(slot).id;
  // Walk back from the tail: new tasks have the highest id and stop at once;
  // a retried task goes back to its place by age.
  uint32_t after = bucket.tail;
  for (uint32_t steps = 0; after != kNil && r_.CheckedSlot(after, "queue link").id > id;
       ++steps) {
    if (steps > r_.geo().slot_capacity) ThrowCorrupt("task queue loops");
    after = T(after).q_prev;
  }
  const uint32_t before = after == kNil ? bucket.head : T(after).q_next;
  T(slot).q_prev = after;
  T(slot).q_next = before;
  if (after == kNil) bucket.head = slot; else T(after).q_next = slot;
  if (before == kNil) bucket.tail = slot; else T(before).q_prev = slot;
  q.nonempty[b / 64] |= 1ull << (b % 64);
  q.pending += 1;
}

void TaskQueues::RemovePending(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.CheckedQueue(row, "task assignee");
  TaskFields& t = T(slot);
  const uint32_t b = BucketOf(t.priority);
  TaskQueue::Bucket& bucket = q.buckets[b];
  const uint32_t prev = t.q_prev, next = t.q_next;
  if ((prev == kNil ? bucket.head : T(prev).q_next) != slot ||
      (next == kNil ? bucket.tail : T(next).q_prev) != slot)
    ThrowCorrupt("pending queue around slot " + std::to_string(slot) + " disagrees");
  if (prev == kNil) bucket.head = next; else T(prev).q_next = next;
  if (next == kNil) bucket.tail = prev; else T(next).q_prev = prev;
  t.q_prev = t.q_next = kNil;
  if (bucket.head == kNil) q.nonempty[b / 64] &= ~(1ull << (b % 64));
  q.pending -= 1;
}

void TaskQueues::PushRunning(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.CheckedQueue(row, "task assignee");
  TaskFields& t = T(slot);
  const uint32_t head = q.running_head;
  t.q_prev = kNil;
  t.q_next = head;
  if (head != kNil) T(head).q_prev = slot;
  q.running_head = slot;
  q.running += 1;
}

void TaskQueues::RemoveRunning(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.CheckedQueue(row, "task assignee");
  TaskFields& t = T(slot);
  const uint32_t prev = t.q_prev, next = t.q_next;
  if ((prev == kNil ? q.running_head : T(prev).q_next) != slot ||
      (next != kNil && T(next).q_prev != slot))
    ThrowCorrupt("running list around slot " + std::to_string(slot) + " disagrees");
  if (prev == kNil) q.running_head = next; else T(prev).q_next = next;
  if (next != kNil) T(next).q_prev = prev;
  t.q_prev = t.q_next = kNil;
  q.running -= 1;
}

uint32_t TaskQueues::PendingHead(uint32_t row, int bucket) const {
  const uint32_t head = r_.CheckedQueue(row, "task queue").buckets[bucket].head;
  if (head != kNil && T(head).q_prev != kNil)
    ThrowCorrupt("pending queue head " + std::to_string(head) + " has a previous task");
  return head;
}

uint32_t TaskQueues::RunningHead(uint32_t row) const {
  const uint32_t head = r_.CheckedQueue(row, "task queue").running_head;
  if (head != kNil && T(head).q_prev != kNil)
    ThrowCorrupt("running list head " + std::to_string(head) + " has a previous task");
  return head;
}

void TaskQueues::ExpectState(uint32_t slot, TaskState state) const {
  const Slot& s = r_.CheckedSlot(slot, "queued task");
  if (s.state != static_cast<uint8_t>(SlotState::kLive) || s.segment != 0 ||
      s.kind.task.state != static_cast<uint8_t>(state))
    ThrowCorrupt("slot " + std::to_string(slot) + " is queued as " + TaskStateName(state) +
                 " but is not");
}

uint32_t TaskQueues::Next(uint32_t slot) const {
  const uint32_t next = T(slot).q_next;
  if (next != kNil && T(next).q_prev != slot)
    ThrowCorrupt("task queue after slot " + std::to_string(slot) + " does not point back");
  return next;
}

uint32_t TaskQueues::PendingTail(uint32_t row, int bucket) const {
  const uint32_t tail = r_.CheckedQueue(row, "task queue").buckets[bucket].tail;
  if (tail != kNil && T(tail).q_next != kNil)
    ThrowCorrupt("pending queue tail " + std::to_string(tail) + " has a next task");
  return tail;
}

uint32_t TaskQueues::Prev(uint32_t slot) const {
  const uint32_t prev = T(slot).q_prev;
  if (prev != kNil && T(prev).q_next != slot)
    ThrowCorrupt("task queue before slot " + std::to_string(slot) + " does not point back");
  return prev;
}

int TaskQueues::TopBucket(uint32_t row) const {
  return BucketBelow(row, kPriorityBuckets);
}

int TaskQueues::BucketBelow(uint32_t row, int bucket) const {
  const TaskQueue& q = r_.queue(row);
  for (int w = (bucket - 1) / 64; w >= 0 && bucket > 0; --w) {
    uint64_t bits = q.nonempty[w];
    const int top_bit = bucket - 1 - w * 64;  // highest bit allowed in word w
    if (top_bit < 63) bits &= (2ull << top_bit) - 1;
    if (bits) return w * 64 + 63 - std::countl_zero(bits);
  }
  return -1;
}

}  // namespace slate::internal
