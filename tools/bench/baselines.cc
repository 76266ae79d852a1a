#include "baselines.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <ctime>
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

// Waits until done(*w): a bounded spin, then FUTEX_WAIT on the value last
// seen, `timeout` at a time (nullptr: untimed). `sleeping` tells the other
// side a wake is needed.
template <typename Done>
void AwaitWord(std::atomic<uint32_t>* w, std::atomic<uint32_t>* sleeping, Done done,
               const timespec* timeout = nullptr) {
  if (internal::SpinUntil([&] { return done(w->load(std::memory_order_acquire)); })) return;
  for (;;) {
    sleeping->store(1, std::memory_order_seq_cst);
    const uint32_t v = w->load(std::memory_order_seq_cst);
    if (done(v)) break;
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAIT, v, timeout, nullptr, 0);
  }
  sleeping->store(0, std::memory_order_relaxed);
}

void AwaitValue(std::atomic<uint32_t>* w, std::atomic<uint32_t>* sleeping, uint32_t want) {
  AwaitWord(w, sleeping, [want](uint32_t v) { return v == want; });
}

void SetValue(std::atomic<uint32_t>* w, std::atomic<uint32_t>* sleeping, uint32_t v) {
  w->store(v, std::memory_order_seq_cst);
  if (sleeping->load(std::memory_order_seq_cst) != 0) Futex(w, FUTEX_WAKE, INT_MAX);
}

// A single-producer single-consumer ring of `capacity` (a power of two)
// items. Positions count pushes and pops and wrap at 2^32; each is written
// by one side only. The consumer sleeps on `tail` when it is empty.
struct SpscRing {
  alignas(64) std::atomic<uint32_t> tail;  // written by the producer
  alignas(64) std::atomic<uint32_t> consumer_sleeping;
  alignas(64) std::atomic<uint32_t> head;  // written by the consumer
  uint32_t mask;
  Item items[1];  // mask + 1 of them

  static size_t BytesFor(uint32_t capacity) {
    return sizeof(SpscRing) + (capacity - 1) * sizeof(Item);
  }
  void Init(uint32_t capacity) {
    tail.store(0);
    consumer_sleeping.store(0);
    head.store(0);
    mask = capacity - 1;
  }
};

}  // namespace

double FutexRingsThroughput(int workers, uint64_t items, uint64_t seed) {
  constexpr uint32_t kBatch = 64;
  // Small rings that stay in cache: the producer keeps at most kCapacity
  // tasks and replies outstanding per worker, so neither ring overflows.
  constexpr uint32_t kCapacity = 4096;
  const size_t ring_bytes = (SpscRing::BytesFor(kCapacity) + 63) / 64 * 64;
  struct Control {
    alignas(64) std::atomic<uint32_t> replies;  // bumped by a worker after each batch
    alignas(64) std::atomic<uint32_t> producer_sleeping;
    alignas(64) std::atomic<uint32_t> stop;
  };
  SharedPage mem(sizeof(Control) + 2 * static_cast<size_t>(workers) * ring_bytes);
  std::memset(mem.data(), 0, mem.size());  // faulted in before anyone is timed
  auto* control = new (mem.data()) Control{};
  auto ring = [&](int i) {
    return reinterpret_cast<SpscRing*>(static_cast<uint8_t*>(mem.data()) + sizeof(Control) +
                                       static_cast<size_t>(i) * ring_bytes);
  };
  for (int i = 0; i < 2 * workers; ++i) ring(i)->Init(kCapacity);
  Children children;
  for (int w = 0; w < workers; ++w)
    children.Spawn([&, w]() {
      SpscRing& in = *ring(w);
      SpscRing& out = *ring(workers + w);
      children.Ready();
      uint32_t head = 0, reply_tail = 0;
      for (;;) {
        // Timed: a stop set between the check and the wait wakes nobody.
        static constexpr timespec kStopPoll{0, 10'000'000};
        AwaitWord(&in.tail, &in.consumer_sleeping,
                  [&](uint32_t tail) {
                    return tail != head || control->stop.load(std::memory_order_acquire) != 0;
                  },
                  &kStopPoll);
        const uint32_t tail = in.tail.load(std::memory_order_acquire);
        if (tail == head) return 0;  // stopped
        for (; head != tail; ++head, ++reply_tail) {
          Item& reply = out.items[reply_tail & out.mask];
          reply = in.items[head & in.mask];
          reply.bytes[0] ^= 1;  // the "work": a reply derived from the task
        }
        in.head.store(head, std::memory_order_release);
        out.tail.store(reply_tail, std::memory_order_release);
        control->replies.fetch_add(1, std::memory_order_seq_cst);
        if (control->producer_sleeping.load(std::memory_order_seq_cst) != 0)
          Futex(&control->replies, FUTEX_WAKE, 1);
      }
    });
  if (!children.AwaitReady()) throw std::runtime_error("ring consumers failed to start");
  std::mt19937_64 rng(seed);
  Item it{};
  for (auto& b : it.bytes) b = static_cast<uint8_t>(rng());
  const auto start = Clock::now();
  const size_t n = static_cast<size_t>(workers);
  std::vector<uint32_t> posted(n, 0), drained(n, 0);  // per worker, wrapping
  uint64_t seen = 0, check = 0;
  auto drain = [&] {
    for (size_t w = 0; w < n; ++w) {
      SpscRing& r = *ring(workers + static_cast<int>(w));
      const uint32_t tail = r.tail.load(std::memory_order_acquire);
      for (; drained[w] != tail; ++drained[w], ++seen) check += r.items[drained[w] & r.mask].id;
      r.head.store(drained[w], std::memory_order_release);
    }
  };
  // Until a worker bumps `replies` past `bumps`.
  auto await_replies = [&](uint32_t bumps) {
    AwaitWord(&control->replies, &control->producer_sleeping,
              [bumps](uint32_t now) { return now != bumps; });
  };
  uint64_t sent = 0;
  size_t w = 0;
  while (sent < items) {
    if (posted[w] - drained[w] + kBatch > kCapacity) {
      const uint32_t bumps = control->replies.load(std::memory_order_acquire);
      drain();
      if (posted[w] - drained[w] + kBatch > kCapacity)
        await_replies(bumps);
      continue;
    }
    SpscRing& r = *ring(static_cast<int>(w));
    for (uint32_t i = 0; i < kBatch && sent < items; ++i, ++sent, ++posted[w]) {
      it.id = sent;
      r.items[posted[w] & r.mask] = it;
    }
    r.tail.store(posted[w], std::memory_order_seq_cst);
    if (r.consumer_sleeping.load(std::memory_order_seq_cst) != 0)
      Futex(&r.tail, FUTEX_WAKE, 1);
    w = (w + 1) % n;
  }
  while (seen < items) {
    const uint32_t bumps = control->replies.load(std::memory_order_acquire);
    drain();
    if (seen < items)
      await_replies(bumps);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  control->stop.store(1, std::memory_order_seq_cst);
  for (int i = 0; i < workers; ++i) Futex(&ring(i)->tail, FUTEX_WAKE, 1);
  if (!children.StopAll()) throw std::runtime_error("a ring consumer failed");
  if (check != items * (items - 1) / 2) throw std::runtime_error("futex rings lost a reply");
  return static_cast<double>(items) / secs;
}

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
