#include "slate/internal/event_count.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "slate/clock.h"

namespace slate::internal {
namespace {

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
