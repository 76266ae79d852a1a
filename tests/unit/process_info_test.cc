#include "slate/internal/process_info.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "util/test_pool.h"

namespace slate::internal {
namespace {

TEST(ProcessInfoTest, SelfIsAliveWithItsStartTime) {
  const uint64_t sut = ProcessStartTime(getpid());
  ASSERT_NE(sut, 0u);
  EXPECT_TRUE(ProcessAlive(getpid(), sut));
  EXPECT_FALSE(ProcessAlive(getpid(), sut + 1));  // a reused pid
}

TEST(ProcessInfoTest, ExitedChildIsGoneEvenBeforeReaping) {
  const pid_t child = testing::ForkChild([] { return 0; });
  const uint64_t start = ProcessStartTime(child);
  usleep(100'000);  // exited, not yet reaped: a zombie
  EXPECT_FALSE(ProcessAlive(child, start));
  testing::WaitChild(child);
  EXPECT_EQ(ProcessStartTime(child), 0u);
}

TEST(ProcessInfoTest, NoSuchPid) {
  EXPECT_EQ(ProcessStartTime(0), 0u);
  EXPECT_EQ(ProcessStartTime(-5), 0u);
}

}  // namespace
}  // namespace slate::internal
