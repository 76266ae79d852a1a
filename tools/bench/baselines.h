// The physical floor slate is compared with in the same run: the same
// processes and payload sizes, no task semantics.
//  - RingThroughput: a producer pushes N 64-byte items into a shared-memory
//    ring guarded by a robust, process-shared mutex with condition
//    variables, one item per lock hold; W consumers pop each item and push
//    a 64-byte reply into a second such ring, which the producer drains.
//  - FutexRingsThroughput: what hand-written shared memory reaches with no
//    lock at all: one single-producer single-consumer ring per worker for
//    tasks and one per worker for replies, positions published once per
//    batch of 64, a consumer sleeping on its ring's tail with FUTEX_WAIT
//    when it is empty, the producer on a word every worker bumps after a
//    batch of replies. No task semantics, no crash safety.
//  - FutexPingPong: two processes bounce a shared word with FUTEX_WAKE /
//    FUTEX_WAIT, spinning briefly before sleeping (the same budget slate's
//    waits use). Round-trip times in microseconds.
#pragma once

#include <cstdint>
#include <vector>

namespace slate::bench {

double RingThroughput(int workers, uint64_t items, uint64_t seed);
double FutexRingsThroughput(int workers, uint64_t items, uint64_t seed);
std::vector<double> FutexPingPong(double seconds, uint64_t max_samples);

}  // namespace slate::bench
