// The pool mutex's bounded spin: who may spin (the spinner slots, with
// takeover of a dead spinner's slot), that a spin ends in the lock or in
// the ordinary sleeping lock, and that an owner's death still surfaces.
#include "slate/internal/robust_mutex.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <thread>

#include "slate/clock.h"

namespace slate::internal {
namespace {

using namespace std::chrono_literals;

// A mutex, its holder's sequence (odd while held) and the spinner slots,
// in shared memory so that a forked child can hold the mutex too.
struct SharedLock {
  pthread_mutex_t mu;
  std::atomic<uint64_t> seq{0};
  LockSpinners spinners{};
};

class RobustMutexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    void* p = mmap(nullptr, sizeof(SharedLock), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    l = new (p) SharedLock();
    ASSERT_TRUE(InitRobustMutex(&l->mu).ok());
  }
  void TearDown() override {
    l->~SharedLock();
    munmap(l, sizeof(SharedLock));
  }
  void Hold() {
    ASSERT_EQ(LockRobust(&l->mu), LockOutcome::kAcquired);
    l->seq.fetch_add(1);
  }
  void Release() {
    l->seq.fetch_add(1);
    UnlockRobust(&l->mu);
  }
  // Waits up to 5 s for a spinner to take slot 0.
  bool AwaitSpinner() {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (l->spinners.started[0].load() == 0)
      if (std::chrono::steady_clock::now() > until) return false;
    return true;
  }
  // A thread that locks with LockRobustSpinning, then unlocks.
  std::thread Waiter(int max_spinners, int64_t budget_ns = kSpinBudgetNs) {
    return std::thread([this, max_spinners, budget_ns] {
      EXPECT_EQ(LockRobustSpinning(&l->mu, l->seq, l->spinners, max_spinners, budget_ns),
                LockOutcome::kAcquired);
      UnlockRobust(&l->mu);
    });
  }
  bool AllSlotsFree() const {
    for (const auto& s : l->spinners.started)
      if (s.load() != 0) return false;
    return true;
  }
  SharedLock* l = nullptr;
};

TEST_F(RobustMutexTest, SpinSlotsAreLimitedAndADeadSpinnersSlotIsTakenOver) {
  LockSpinners& s = l->spinners;
  const int64_t now = NowMonoNs();
  EXPECT_EQ(ClaimSpinSlot(s, 0, now), -1);
  EXPECT_EQ(ClaimSpinSlot(s, 1, now), 0);
  EXPECT_EQ(ClaimSpinSlot(s, 1, now + 1), -1) << "one spinner at a time";
  EXPECT_EQ(ClaimSpinSlot(s, 2, now + 1), 1);
  // A slot older than any spin belongs to a spinner that died mid-spin.
  const int64_t later = now + kStaleSpinNs + 1;
  EXPECT_EQ(ClaimSpinSlot(s, 1, later), 0);
  ReleaseSpinSlot(s, 0, now);  // the dead spinner's token: not its slot any more
  EXPECT_EQ(s.started[0].load(), later);
  ReleaseSpinSlot(s, 0, later);
  ReleaseSpinSlot(s, 1, now + 1);
  EXPECT_TRUE(AllSlotsFree());
  EXPECT_EQ(ClaimSpinSlot(s, 99, now), 0) << "never past the last slot";
}

TEST_F(RobustMutexTest, AFreeMutexIsTakenWithoutSpinning) {
  EXPECT_EQ(LockRobustSpinning(&l->mu, l->seq, l->spinners, 1), LockOutcome::kAcquired);
  EXPECT_TRUE(AllSlotsFree());
  UnlockRobust(&l->mu);
}

TEST_F(RobustMutexTest, ASpinnerHoldsItsSlotUntilItTakesTheMutex) {
  Hold();
  std::thread waiter = Waiter(1, 60'000'000'000);  // a budget no run reaches: it gets the lock by spinning
  const bool spun = AwaitSpinner();
  Release();
  waiter.join();
  EXPECT_TRUE(spun);
  EXPECT_TRUE(AllSlotsFree());
}

TEST_F(RobustMutexTest, ASpinIsBoundedAndEndsInTheSleepingLock) {
  Hold();
  std::thread waiter = Waiter(1);
  // Held far past the budget: the waiter's spin has ended, its slot is
  // free, and it sleeps in the ordinary lock until the release.
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(AllSlotsFree());
  Release();
  waiter.join();
}

TEST_F(RobustMutexTest, NoSlotsNoSpin) {
  Hold();
  std::thread waiter = Waiter(0);
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(AllSlotsFree());
  Release();
  waiter.join();
}

TEST_F(RobustMutexTest, AHolderThatDiedIsReportedToTheNextLocker) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pthread_mutex_lock(&l->mu);
    l->seq.fetch_add(1);  // dies inside, as a killed holder does
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(LockRobustSpinning(&l->mu, l->seq, l->spinners, 1), LockOutcome::kOwnerDied);
  MarkConsistent(&l->mu);
  UnlockRobust(&l->mu);
  EXPECT_TRUE(AllSlotsFree());
}

// A waiter asleep in the lock when its holder dies takes it with the
// owner's death reported, holds it, and gives it back. (Under
// ThreadSanitizer this is the sleeping lock's path, whose interceptor sees
// no lock taken from a dead owner unless told.)
TEST_F(RobustMutexTest, AWaiterAsleepWhenTheHolderDiesTakesTheLock) {
  int locked[2];
  ASSERT_EQ(pipe(locked), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pthread_mutex_lock(&l->mu);
    (void)!write(locked[1], "l", 1);
    pause();  // holds it until killed
    _exit(0);
  }
  char b;
  ASSERT_EQ(read(locked[0], &b, 1), 1);
  std::thread killer([&] {
    std::this_thread::sleep_for(100ms);  // the waiter is asleep in the kernel by then
    kill(child, SIGKILL);
  });
  EXPECT_EQ(LockRobust(&l->mu), LockOutcome::kOwnerDied);
  MarkConsistent(&l->mu);
  UnlockRobust(&l->mu);
  killer.join();
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(LockRobust(&l->mu), LockOutcome::kAcquired) << "consistent again";
  UnlockRobust(&l->mu);
  for (int fd : {locked[0], locked[1]}) close(fd);
}

// The wake-up the kernel gives one waiter when an owner dies is lost if
// that waiter is killed before it takes the lock. Simulated here: a child
// holds the lock, a waiter sleeps on it, and the child frees the lock's
// word without the wake-up (as the lost one would have) and exits. The
// waiter must still take the lock, on its next slice, not sleep forever.
TEST_F(RobustMutexTest, AWaiterWhoseWakeUpWasLostStillTakesTheLock) {
  int locked[2], go[2];
  ASSERT_EQ(pipe(locked), 0);
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pthread_mutex_lock(&l->mu);
    (void)!write(locked[1], "l", 1);
    char b;
    (void)!read(go[0], &b, 1);
    // glibc's lock word: owner tid | waiters bit. Freed behind its back.
    __atomic_store_n(&l->mu.__data.__lock, 0, __ATOMIC_SEQ_CST);
    _exit(0);
  }
  char b;
  ASSERT_EQ(read(locked[0], &b, 1), 1);
  std::atomic<bool> taken{false};
  std::thread waiter([&] {
    const LockOutcome got = LockRobust(&l->mu);
    EXPECT_TRUE(got == LockOutcome::kAcquired || got == LockOutcome::kOwnerDied);
    if (got == LockOutcome::kOwnerDied) MarkConsistent(&l->mu);
    taken = true;
    UnlockRobust(&l->mu);
  });
  std::this_thread::sleep_for(100ms);  // asleep in the kernel, waiters bit set
  EXPECT_FALSE(taken.load());
  ASSERT_EQ(write(go[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!taken.load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(taken.load()) << "the waiter slept on a free lock";
  if (!taken.load()) {  // unstick it so the test can end
    __atomic_store_n(&l->mu.__data.__lock, 0, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &l->mu.__data.__lock, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  }
  waiter.join();
  for (int fd : {locked[0], locked[1], go[0], go[1]}) close(fd);
}

}  // namespace
}  // namespace slate::internal
