#include "slate/internal/task_queue.h"

#include <bit>

namespace slate::internal {

void TaskQueues::PushPending(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.queue(row);
  const uint32_t b = BucketOf(T(slot).priority);
  TaskQueue::Bucket& bucket = q.buckets[b];
  const uint64_t id = r_.slot(slot).id;
  // Walk back from the tail: new tasks have the highest id and stop at once;
  // a retried task goes back to its place by age.
  uint32_t after = bucket.tail;
  while (after != kNil && r_.slot(after).id > id) after = T(after).q_prev;
  const uint32_t before = after == kNil ? bucket.head : T(after).q_next;
  T(slot).q_prev = after;
  T(slot).q_next = before;
  if (after == kNil) bucket.head = slot; else T(after).q_next = slot;
  if (before == kNil) bucket.tail = slot; else T(before).q_prev = slot;
  q.nonempty[b / 64] |= 1ull << (b % 64);
  q.pending += 1;
}

void TaskQueues::RemovePending(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.queue(row);
  const uint32_t b = BucketOf(T(slot).priority);
  TaskQueue::Bucket& bucket = q.buckets[b];
  TaskFields& t = T(slot);
  if (t.q_prev == kNil) bucket.head = t.q_next; else T(t.q_prev).q_next = t.q_next;
  if (t.q_next == kNil) bucket.tail = t.q_prev; else T(t.q_next).q_prev = t.q_prev;
  t.q_prev = t.q_next = kNil;
  if (bucket.head == kNil) q.nonempty[b / 64] &= ~(1ull << (b % 64));
  q.pending -= 1;
}

void TaskQueues::PushRunning(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.queue(row);
  TaskFields& t = T(slot);
  t.q_prev = kNil;
  t.q_next = q.running_head;
  if (q.running_head != kNil) T(q.running_head).q_prev = slot;
  q.running_head = slot;
  q.running += 1;
}

void TaskQueues::RemoveRunning(uint32_t row, uint32_t slot) {
  TaskQueue& q = r_.queue(row);
  TaskFields& t = T(slot);
  if (t.q_prev == kNil) q.running_head = t.q_next; else T(t.q_prev).q_next = t.q_next;
  if (t.q_next != kNil) T(t.q_next).q_prev = t.q_prev;
  t.q_prev = t.q_next = kNil;
  q.running -= 1;
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
