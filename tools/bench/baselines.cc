#include "baselines.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <random>
#include <stdexcept>

#include "children.h"
#include "slate/internal/spin_wait.h"
#include "slate_workloads.h"

namespace slate::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Item {
  uint64_t id;
  uint8_t bytes[64];
};

// A bounded FIFO in shared memory. All fields under mu.
struct Ring {
  pthread_mutex_t mu;
  pthread_cond_t not_empty;
  pthread_cond_t not_full;
  uint64_t head;  // next to pop
  uint64_t tail;  // next to push
  uint64_t capacity;
  uint32_t stop;
  Item items[1];  // capacity of them

  static size_t BytesFor(uint64_t capacity) {
    return sizeof(Ring) + (capacity - 1) * sizeof(Item);
  }
  void Init(uint64_t cap) {
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(&not_empty, &ca);
    pthread_cond_init(&not_full, &ca);
    pthread_condattr_destroy(&ca);
    head = tail = 0;
    capacity = cap;
    stop = 0;
  }
  void Lock() {
    if (pthread_mutex_lock(&mu) == EOWNERDEAD) pthread_mutex_consistent(&mu);
  }
  void Push(const Item& it) {
    Lock();
    while (tail - head == capacity) pthread_cond_wait(&not_full, &mu);
    items[tail % capacity] = it;
    ++tail;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mu);
  }
  // False when stopped and empty.
  bool Pop(Item* out) {
    Lock();
    while (tail == head && stop == 0) pthread_cond_wait(&not_empty, &mu);
    if (tail == head) {
      pthread_mutex_unlock(&mu);
      return false;
    }
    *out = items[head % capacity];
    ++head;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&mu);
    return true;
  }
  void Stop() {
    Lock();
    stop = 1;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&mu);
  }
};

long Futex(std::atomic<uint32_t>* w, int op, uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), op, val, nullptr, nullptr, 0);
}

// Waits until *w == want: a bounded spin, then FUTEX_WAIT. `sleeping`
// tells the other side a wake is needed.
void AwaitValue(std::atomic<uint32_t>* w, std::atomic<uint32_t>* sleeping, uint32_t want) {
  if (internal::SpinUntil([&] { return w->load(std::memory_order_acquire) == want; }))
    return;
  for (;;) {
    sleeping->store(1, std::memory_order_seq_cst);
    const uint32_t v = w->load(std::memory_order_seq_cst);
    if (v == want) break;
    Futex(w, FUTEX_WAIT, v);
  }
  sleeping->store(0, std::memory_order_relaxed);
}

void SetValue(std::atomic<uint32_t>* w, std::atomic<uint32_t>* sleeping, uint32_t v) {
  w->store(v, std::memory_order_seq_cst);
  if (sleeping->load(std::memory_order_seq_cst) != 0) Futex(w, FUTEX_WAKE, INT_MAX);
}

}  // namespace

double RingThroughput(int workers, uint64_t items, uint64_t seed) {
  // Rings big enough for every item: the producer never blocks on a full ring.
  const uint64_t cap = items + 1;
  SharedPage task_mem(Ring::BytesFor(cap)), reply_mem(Ring::BytesFor(cap));
  auto* tasks = static_cast<Ring*>(task_mem.data());
  auto* replies = static_cast<Ring*>(reply_mem.data());
  tasks->Init(cap);
  replies->Init(cap);
  Children children;
  for (int w = 0; w < workers; ++w)
    children.Spawn([&]() {
      children.Ready();
      Item it;
      while (tasks->Pop(&it)) {
        it.bytes[0] ^= 1;  // the "work": a reply derived from the task
        replies->Push(it);
      }
      return 0;
    });
  if (!children.AwaitReady()) throw std::runtime_error("ring consumers failed to start");
  std::mt19937_64 rng(seed);
  Item it{};
  for (auto& b : it.bytes) b = static_cast<uint8_t>(rng());
  const auto start = Clock::now();
  for (uint64_t i = 0; i < items; ++i) {
    it.id = i;
    tasks->Push(it);
  }
  Item reply;
  for (uint64_t i = 0; i < items; ++i) replies->Pop(&reply);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  tasks->Stop();
  if (!children.StopAll()) throw std::runtime_error("a ring consumer failed");
  return static_cast<double>(items) / secs;
}

std::vector<double> FutexPingPong(double seconds, uint64_t max_samples) {
  struct Shared {
    alignas(64) std::atomic<uint32_t> word;
    alignas(64) std::atomic<uint32_t> parent_sleeping;
    alignas(64) std::atomic<uint32_t> child_sleeping;
    alignas(64) std::atomic<uint32_t> quit;
  };
  SharedPage mem(sizeof(Shared));
  auto* sh = new (mem.data()) Shared{};
  Children children;
  children.Spawn([&]() {
    children.Ready();
    for (uint32_t round = 1;; ++round) {
      AwaitValue(&sh->word, &sh->child_sleeping, 2 * round - 1);
      if (sh->quit.load()) return 0;
      SetValue(&sh->word, &sh->parent_sleeping, 2 * round);
    }
  });
  if (!children.AwaitReady()) throw std::runtime_error("ping-pong child failed to start");
  std::vector<double> us;
  us.reserve(max_samples);
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  uint32_t round = 1;
  for (; us.size() < max_samples && (Clock::now() < end || us.size() < kMinLatencySamples);
       ++round) {
    const auto t0 = Clock::now();
    SetValue(&sh->word, &sh->child_sleeping, 2 * round - 1);
    AwaitValue(&sh->word, &sh->parent_sleeping, 2 * round);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  sh->quit.store(1);
  SetValue(&sh->word, &sh->child_sleeping, 2 * round - 1);
  children.StopAll();
  return us;
}

}  // namespace slate::bench
