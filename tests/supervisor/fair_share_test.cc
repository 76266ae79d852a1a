// Which request's ready task goes next when several share the group.
#include <gtest/gtest.h>

#include <vector>

#include "schedule/fair_share.h"

namespace slate::supervisor {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNow = 1000 * kSecond;

Share At(int priority, int64_t served_ns, uint32_t on_workers = 0) {
  return {true, priority, served_ns, on_workers};
}

TEST(FairShareTest, TheMoreUrgentRequestGoesFirst) {
  const std::vector<Share> shares = {At(0, kNow), At(50, kNow)};
  EXPECT_EQ(NextShare(shares, kNow, 1000), 1u);
}

TEST(FairShareTest, EqualRequestsTakeTurnsAndEvenOutTheirShares) {
  // A long request holding both workers, a short one just admitted.
  std::vector<Share> shares = {At(0, kNow, 2), At(0, kNow)};
  EXPECT_EQ(NextShare(shares, kNow, 1000), 1u) << "fewest on workers first";
  // Equal shares: the one served least recently.
  shares = {At(0, kNow - 5, 1), At(0, kNow - 9, 1)};
  EXPECT_EQ(NextShare(shares, kNow, 1000), 1u);
  // A pass over equal requests alternates between them.
  shares = {At(0, kNow - 2), At(0, kNow - 1)};
  std::vector<size_t> order;
  for (int64_t t = kNow; t < kNow + 6; ++t) {
    const auto next = NextShare(shares, t, 1000);
    ASSERT_TRUE(next);
    order.push_back(*next);
    shares[*next].served_ns = t;
    shares[*next].on_workers += 1;
  }
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 0, 1, 0, 1}));
}

TEST(FairShareTest, ARequestNobodyServesClimbsUntilItIsServed) {
  // Priority 0, unserved for 150 s at one step a second, beats priority 100.
  std::vector<Share> shares = {At(100, kNow), At(0, kNow - 150 * kSecond)};
  EXPECT_EQ(WaitedPriority(shares[1], kNow, 1000), 150);
  EXPECT_EQ(NextShare(shares, kNow, 1000), 1u);
  EXPECT_EQ(NextShare(shares, kNow, 0), 0u) << "0: no aging";
  shares[1].served_ns = kNow;
  EXPECT_EQ(NextShare(shares, kNow, 1000), 0u) << "once served, it waits its turn again";
}

TEST(FairShareTest, OnlyOpenRequestsOffer) {
  std::vector<Share> shares = {At(9, kNow), At(1, kNow)};
  shares[0].open = false;
  EXPECT_EQ(NextShare(shares, kNow, 1000), 1u);
  shares[1].open = false;
  EXPECT_FALSE(NextShare(shares, kNow, 1000));
  EXPECT_FALSE(NextShare({}, kNow, 1000));
}

}  // namespace
}  // namespace slate::supervisor
