// Delegation policies over a snapshot of workers.
#include <gtest/gtest.h>

#include "schedule/delegator.h"

namespace slate::supervisor {
namespace {

std::vector<WorkerView> Workers(std::vector<uint32_t> loads, std::vector<std::string> caps = {}) {
  std::vector<WorkerView> out;
  for (size_t i = 0; i < loads.size(); ++i)
    out.push_back({AgentRef{static_cast<uint32_t>(i + 1), 1}, "w" + std::to_string(i + 1),
                   i < caps.size() && !caps[i].empty() ? std::vector<std::string>{caps[i]}
                                                       : std::vector<std::string>{},
                   loads[i]});
  return out;
}

// Hands out n tasks, each worker finishing nothing; returns the picks.
std::vector<size_t> HandOut(Delegator& d, std::vector<WorkerView>& w, int n,
                            const std::string& cap = "") {
  std::vector<size_t> picks;
  for (int k = 0; k < n; ++k) {
    const auto c = d.Choose(w, cap, 0);
    if (!c.worker) break;
    d.Assigned(w, *c.worker, cap);
    picks.push_back(*c.worker);
  }
  return picks;
}

TEST(DelegatorTest, RoundRobinTakesTurnsAndSkipsAFullWorker) {
  Delegator d(Policy::kRoundRobin, 2);
  auto w = Workers({0, 0, 0});
  EXPECT_EQ(HandOut(d, w, 3), (std::vector<size_t>{0, 1, 2}));
  // w2 is full (a long task and one queued): its turn passes to w3.
  w = Workers({0, 2, 0});
  Delegator e(Policy::kRoundRobin, 2);
  EXPECT_EQ(HandOut(e, w, 4), (std::vector<size_t>{0, 2, 0, 2}));
  EXPECT_FALSE(e.Choose(w, "", 0).worker) << "every worker is full";
}

TEST(DelegatorTest, RoundRobinNeverLeavesAWorkerIdleWhileATaskWaits) {
  Delegator d(Policy::kRoundRobin, 1);
  auto w = Workers({1, 1, 0, 1});
  const auto c = d.Choose(w, "", 0);
  ASSERT_TRUE(c.worker);
  EXPECT_EQ(*c.worker, 2u);
}

TEST(DelegatorTest, ARetryGoesElsewhereIfItCanElseBackToItsWorker) {
  Delegator d(Policy::kRoundRobin, 2);
  auto w = Workers({0, 0});
  auto c = d.Choose(w, "", /*avoid_row=*/1);
  ASSERT_TRUE(c.worker);
  EXPECT_EQ(*c.worker, 1u);
  w = Workers({0, 2});
  c = d.Choose(w, "", 1);
  ASSERT_TRUE(c.worker);
  EXPECT_EQ(*c.worker, 0u) << "the only worker with room";
}

TEST(DelegatorTest, OnlyCapableWorkersAndLeastLoadedFirst) {
  Delegator d(Policy::kRoundRobin, 2);
  auto w = Workers({0, 0, 0}, {"", "gpu", ""});
  EXPECT_EQ(HandOut(d, w, 3, "gpu"), (std::vector<size_t>{1, 1}));
  EXPECT_FALSE(d.Choose(w, "tpu", 0).any_capable);
  Delegator l(Policy::kLeastLoaded, 4);
  w = Workers({3, 1, 2});
  EXPECT_EQ(HandOut(l, w, 3), (std::vector<size_t>{1, 1, 2}));
}

}  // namespace
}  // namespace slate::supervisor
