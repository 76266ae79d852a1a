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

// The second and later checks poll a kept pidfd: they must still see the
// death at once, a zombie included, and never take a later process with
// the same pid for the first.
TEST(ProcessInfoTest, AProcessSeenAliveIsSeenGoneTheMomentItExits) {
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = testing::ForkChild([&] {
    char c;
    return read(go[0], &c, 1) == 1 ? 0 : 1;
  });
  const uint64_t start = ProcessStartTime(child);
  ASSERT_NE(start, 0u);
  EXPECT_TRUE(ProcessAlive(child, start));
  EXPECT_TRUE(ProcessAlive(child, start));  // from the kept pidfd
  EXPECT_FALSE(ProcessAlive(child, start + 1)) << "another process with this pid";
  EXPECT_TRUE(ProcessAlive(child, start));
  ASSERT_EQ(write(go[1], "x", 1), 1);
  usleep(100'000);  // exited, not reaped
  EXPECT_FALSE(ProcessAlive(child, start));
  EXPECT_FALSE(ProcessAlive(child, start));
  testing::WaitChild(child);
  EXPECT_FALSE(ProcessAlive(child, start));
  close(go[0]);
  close(go[1]);
}

TEST(ProcessInfoTest, NoSuchPid) {
  EXPECT_EQ(ProcessStartTime(0), 0u);
  EXPECT_EQ(ProcessStartTime(-5), 0u);
}

}  // namespace
}  // namespace slate::internal
