// The slot and block arrays get pages only as the pool grows into them
// (region_backing.h): in windows, ahead of use, and with a clear kPoolFull
// where a first touch of a page /dev/shm has no room for would raise SIGBUS.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "slate/internal/layout.h"
#include "slate/pool.h"
#include "util/raw_view.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using testing::ScopedPool;
using testing::SmallOptions;

uint64_t AllocatedBytes(const std::string& pool) {
  struct stat st {};
  stat(("/dev/shm/" + ShmNameFor(pool)).c_str(), &st);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(RegionBackingTest, WhatIsHandedOutIsBackedAndTheRestStaysAHole) {
  PoolOptions o = SmallOptions("backing");
  o.slot_capacity = 1 << 18;    // 32 MiB of slots
  o.data_bytes = 64ull << 20;
  ScopedPool sut(o);
  const uint64_t empty = AllocatedBytes(sut.name());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(sut->Write(testing::MakeEntry("notes")).ok());
  testing::RawView raw(sut.name());
  const internal::Header& h = raw.r().header();
  EXPECT_GE(h.slots_backed.load(), h.counters.slot_high);
  EXPECT_GE(h.cells_backed.load(), h.counters.cell_high);
  EXPECT_GE(h.counters.slot_high, 3000u);
  // One window (1 MiB) of each array, not the 96 MiB the pool could hold.
  EXPECT_LT(AllocatedBytes(sut.name()) - empty, 4ull << 20);
  EXPECT_TRUE(sut->Check().empty());
  // A mark lowered by someone else is reported; the next write backs
  // again and the pool carries on.
  raw.r().header().slots_backed.store(10);
  const auto problems = sut->Check();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("past the backed mark"), std::string::npos) << problems[0];
  ASSERT_TRUE(sut->Write(testing::MakeEntry("notes")).ok());
  EXPECT_TRUE(sut->Check().empty());
}

TEST(RegionBackingTest, AReservedPoolIsAllocatedAndBackedWholeAtCreation) {
  PoolOptions o = SmallOptions("reserved");
  o.reserve = true;
  ScopedPool sut(o);
  struct stat st {};
  ASSERT_EQ(stat(("/dev/shm/" + ShmNameFor(sut.name())).c_str(), &st), 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, static_cast<uint64_t>(st.st_size) * 9 / 10);
  testing::RawView raw(sut.name());
  EXPECT_EQ(raw.r().header().slots_backed.load(), raw.r().geo().slot_capacity);
  EXPECT_EQ(raw.r().header().cells_backed.load(), raw.r().geo().cell_count);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(sut->Write(testing::MakeEntry("notes")).ok());
  EXPECT_TRUE(sut->Check().empty());
}

// In a private mount namespace, /dev/shm is a 4 MiB tmpfs and the pool
// asks for 40 MiB: reserving it is refused at once, and writes must stop with kPoolFull naming /dev/shm, and
// everything written before must still read back.
TEST(RegionBackingTest, AFullDevShmIsPoolFullNotSigbus) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a private /dev/shm mount";
  const pid_t child = testing::ForkChild([] {
    if (unshare(CLONE_NEWNS) != 0) return 10;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 11;
    if (mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=4m") != 0) return 12;
    PoolOptions o = SmallOptions("full-shm");
    o.slot_capacity = 1 << 16;  // 8 MiB of slots
    o.data_bytes = 32ull << 20;
    o.reserve = true;  // cannot be had: refused at creation, nothing left
    auto reserved = Pool::Create(o);
    if (reserved.ok() || reserved.status().code() != StatusCode::kPoolFull) return 20;
    if (reserved.status().message().find("/dev/shm") == std::string::npos) return 21;
    if (Pool::Exists(o.name)) return 22;
    o.reserve = false;
    auto pool = Pool::Create(o);
    if (!pool.ok()) return 13;
    uint64_t written = 0;
    Status last;
    for (int i = 0; i < 200000; ++i) {
      auto id = (*pool)->Write(testing::MakeEntry("notes", {}, 0.5f, "t", std::string(100, 'x')));
      if (!id.ok()) {
        last = id.status();
        break;
      }
      ++written;
    }
    if (last.code() != StatusCode::kPoolFull) return 14;
    if (last.message().find("/dev/shm") == std::string::npos) return 15;
    if (written < 1000) return 16;
    Query q;
    q.limit = 0;
    auto all = (*pool)->Find(q);
    if (!all.ok() || all->size() != written) return 17;
    if (!(*pool)->Check().empty()) return 18;
    // Once full, it stays refusable, never fatal: smaller entries may
    // still fit in the pages already backed, then they are refused too.
    Status small;
    for (int i = 0; i < 10000 && small.ok(); ++i)
      small = (*pool)->Write(testing::MakeEntry("notes")).status();
    if (small.code() != StatusCode::kPoolFull) return 19;
    if (!(*pool)->Check().empty()) return 23;
    (void)Pool::Remove(o.name);
    return 0;
  });
  const int st = testing::WaitChild(child, 60000);
  ASSERT_TRUE(WIFEXITED(st)) << "child died by signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  if (WEXITSTATUS(st) >= 10 && WEXITSTATUS(st) <= 12)
    GTEST_SKIP() << "no private mount namespace with a small /dev/shm here (step "
                 << WEXITSTATUS(st) - 10 << ")";
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace slate
