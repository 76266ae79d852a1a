#include "slate/internal/event_count.h"

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "slate/clock.h"
#include "slate/internal/spin_wait.h"
#include "util/test_pool.h"

namespace slate::internal {
namespace {

// An event that lands just after a failed attempt: a spinning waiter sees
// the count move and tries again without announcing itself; one told not
// to spin announces itself (sets the waiters bit) before the next try.
bool WaitersBitAtSecondAttempt(bool spin) {
  EventWord sut{};
  int attempts = 0;
  bool bit = false;
  AwaitEvent(sut, NowMonoNs() + 2'000'000'000, spin, [&] {
    if (++attempts == 1) {
      Notify(sut);
      return false;
    }
    bit = (sut.word.load() & 0x80000000u) != 0;
    return true;
  });
  return bit;
}

TEST(EventCountTest, ASpinningWaiterCatchesAnEventWithoutAnnouncingItself) {
  EXPECT_FALSE(WaitersBitAtSecondAttempt(true));
}

TEST(EventCountTest, AWaiterThatMustNotSpinAnnouncesItselfAtOnce) {
  EXPECT_TRUE(WaitersBitAtSecondAttempt(false));
}

TEST(EventCountTest, UsableCpusFollowsTheAffinityMask) {
  EXPECT_GE(UsableCpus(), 1);
  const pid_t child = testing::ForkChild([] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) return 2;
    return UsableCpus() == 1 ? 0 : 1;
  });
  const int status = testing::WaitChild(child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(EventCountTest, WaitReturnsAtOnceWhenNotifiedAfterPrepare) {
  EventWord sut{};
  const uint32_t key = PrepareWait(sut);
  Notify(sut);
  const int64_t start = NowMonoNs();
  WaitFor(sut, key, 2'000'000'000);
  EXPECT_LT(NowMonoNs() - start, 500'000'000);
}

TEST(EventCountTest, WaitTimesOutWithoutNotify) {
  EventWord sut{};
  const uint32_t key = PrepareWait(sut);
  const int64_t start = NowMonoNs();
  WaitFor(sut, key, 50'000'000);
  EXPECT_GE(NowMonoNs() - start, 40'000'000);
}

TEST(EventCountTest, NotifyWakesASleepingThread) {
  EventWord sut{};
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    const uint32_t key = PrepareWait(sut);
    WaitFor(sut, key, 5'000'000'000);
    woke = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Notify(sut);
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST(EventCountTest, NotifyClearsTheWaitersBit) {
  EventWord sut{};
  (void)PrepareWait(sut);
  Notify(sut);
  EXPECT_EQ(sut.word.load() & 0x80000000u, 0u);
  EXPECT_EQ(sut.word.load(), 1u);
}

}  // namespace
}  // namespace slate::internal
