// A task slot's packed times (task_time.h): what goes in comes back out to
// the millisecond, on the safe side, and nothing wraps where it must not.
#include "slate/internal/task_time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace slate::internal {
namespace {

constexpr int64_t kCreated = int64_t{1'790'000'000'123} * kNsPerMs + 456'789;

int64_t RoundTrip(int64_t deadline_ns) {
  TaskFields t{};
  SetDeadline(&t, deadline_ns, kCreated);
  return DeadlineNs(t, kCreated);
}

TEST(TaskTimeTest, NoDeadlineStaysNone) {
  EXPECT_EQ(RoundTrip(0), 0);
  TaskFields t{};
  SetDeadline(&t, 0, kCreated);
  EXPECT_FALSE(PastDeadline(t, kCreated, std::numeric_limits<int64_t>::max()));
}

TEST(TaskTimeTest, DeadlineKeepsItsMillisecondRoundedDown) {
  const int64_t offsets[] = {0,  1, kNsPerMs - 1, kNsPerMs, 1'500'000 + 7,
                             int64_t{3'600'000} * kNsPerMs + 999'999, -1, -2'500'000,
                             -int64_t{86'400'000} * kNsPerMs - 3};
  for (int64_t offset : offsets) {
    const int64_t deadline = kCreated + offset;
    const int64_t back = RoundTrip(deadline);
    EXPECT_LE(back, deadline) << offset;
    EXPECT_GT(back, deadline - kNsPerMs) << offset;
  }
}

TEST(TaskTimeTest, ATaskIsNeverStartedAfterItsDeadline) {
  TaskFields t{};
  const int64_t deadline = kCreated + 10 * kNsPerMs + 400'000;
  SetDeadline(&t, deadline, kCreated);
  EXPECT_FALSE(PastDeadline(t, kCreated, kCreated + 10 * kNsPerMs));
  EXPECT_TRUE(PastDeadline(t, kCreated, deadline));
  EXPECT_TRUE(PastDeadline(t, kCreated, deadline + 1));
}

TEST(TaskTimeTest, FarDeadlinesAreKeptAtSixteenYearsNotWrapped) {
  const int64_t reach = kDeadlineReachMs * kNsPerMs;
  EXPECT_EQ(RoundTrip(std::numeric_limits<int64_t>::max()), kCreated + reach);
  EXPECT_EQ(RoundTrip(kCreated + reach + 5 * kNsPerMs), kCreated + reach);
  EXPECT_EQ(RoundTrip(std::numeric_limits<int64_t>::min()), kCreated - reach);
  EXPECT_EQ(RoundTrip(1), kCreated - reach);  // 1970: long past, and stays past
  const int64_t ten_years = int64_t{10} * 365 * 86'400'000 * kNsPerMs;
  EXPECT_EQ(RoundTrip(kCreated + ten_years), kCreated + ten_years);
}

TEST(TaskTimeTest, LeaseRoundsUpAndReadsBackNearNow) {
  const int64_t now = int64_t{5'000} * kNsPerMs + 250'000;
  const uint32_t lease = LeaseMs(now + 30 * kNsPerMs);
  EXPECT_EQ(LeaseDeadlineNs(lease, now), int64_t{5'031} * kNsPerMs);
  EXPECT_FALSE(LeaseExpired(lease, now));
  EXPECT_FALSE(LeaseExpired(lease, int64_t{5'031} * kNsPerMs));
  EXPECT_TRUE(LeaseExpired(lease, int64_t{5'031} * kNsPerMs + 1));
}

TEST(TaskTimeTest, LeaseComparesAcrossTheWrapOfItsThirtyTwoBits) {
  // 2^32 ms of uptime is 49.7 days; a lease taken 10 ms before it.
  const int64_t wrap = (int64_t{1} << 32) * kNsPerMs;
  const int64_t now = wrap - 10 * kNsPerMs;
  const uint32_t lease = LeaseMs(now + 50 * kNsPerMs);
  EXPECT_EQ(lease, 40u);
  EXPECT_EQ(LeaseDeadlineNs(lease, now), wrap + 40 * kNsPerMs);
  EXPECT_EQ(LeaseDeadlineNs(lease, wrap + 100 * kNsPerMs), wrap + 40 * kNsPerMs);
  EXPECT_FALSE(LeaseExpired(lease, now));
  EXPECT_FALSE(LeaseExpired(lease, wrap + 39 * kNsPerMs));
  EXPECT_TRUE(LeaseExpired(lease, wrap + 41 * kNsPerMs));
  // A lease that ran out long ago still reads as run out, up to 24 days on.
  EXPECT_TRUE(LeaseExpired(lease, wrap + kLeaseReachMs * kNsPerMs));
}

TEST(TaskTimeTest, ResultGapFitsThirtyTwoBitsOrIsZero) {
  EXPECT_EQ(ResultGap(100, 101), 1u);
  EXPECT_EQ(ResultGap(100, 100 + 0xFFFFFFFFull), 0xFFFFFFFFu);
  EXPECT_EQ(ResultGap(100, 100 + 0x100000000ull), 0u);
}

}  // namespace
}  // namespace slate::internal
