#include "slate/internal/event_count.h"

#include "slate/internal/spin_wait.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace slate::internal {
namespace {

constexpr uint32_t kWaitersBit = 1u << 31;

long Futex(std::atomic<uint32_t>* word, int op, uint32_t val,
           const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, val,
                 timeout, nullptr, 0);
}

}  // namespace

int UsableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

uint32_t ObserveEvents(const EventWord& e) {
  return e.word.load(std::memory_order_acquire) & ~kWaitersBit;
}

bool SpinUntilEvent(const EventWord& e, uint32_t seen) {
  return SpinUntil([&] { return ObserveEvents(e) != seen; });
}

uint32_t PrepareWait(EventWord& e) {
  // Setting the bit before checking the condition tells every later Notify
  // that it must make the syscall.
  return e.word.fetch_or(kWaitersBit, std::memory_order_acq_rel) | kWaitersBit;
}

bool WaitFor(EventWord& e, uint32_t key, int64_t timeout_ns) {
  if (timeout_ns <= 0) return true;
  timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
              static_cast<long>(timeout_ns % 1'000'000'000)};
  return !(Futex(&e.word, FUTEX_WAIT, key, &ts) != 0 && errno == EINTR);
}

void Notify(EventWord& e) {
  uint32_t old = e.word.load(std::memory_order_relaxed);
  uint32_t next;
  do {
    next = (old + 1) & ~kWaitersBit;
  } while (!e.word.compare_exchange_weak(old, next, std::memory_order_acq_rel));
  if (old & kWaitersBit) Futex(&e.word, FUTEX_WAKE, INT_MAX, nullptr);
}

}  // namespace slate::internal
