#include <fcntl.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "slate/internal/layout.h"
#include "slate/pool.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using testing::ScopedPool;
using testing::SmallOptions;

std::string ShmPath(const std::string& pool) { return "/dev/shm/slate." + pool; }

mode_t ModeOf(const std::string& pool) {
  struct stat st {};
  EXPECT_EQ(stat(ShmPath(pool).c_str(), &st), 0);
  return st.st_mode & 0777;
}

// Opens the raw region read-write, bypassing every check, to damage it.
struct RawRegion {
  explicit RawRegion(const std::string& pool) {
    fd = shm_open(ShmNameFor(pool).insert(0, "/").c_str(), O_RDWR, 0);
    struct stat st {};
    fstat(fd, &st);
    size = static_cast<size_t>(st.st_size);
    base = static_cast<uint8_t*>(
        mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  }
  ~RawRegion() {
    munmap(base, size);
    close(fd);
  }
  internal::Header& header() { return *reinterpret_cast<internal::Header*>(base); }
  int fd;
  size_t size;
  uint8_t* base;
};

TEST(PoolOpenTest, CreateThenOpenSeesTheSameEntries) {
  ScopedPool sut("open");
  auto id = sut->Write(testing::MakeEntry("notes", {"a"}));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto other = Pool::Open(sut.name());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto e = (*other)->Read(*id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->segment, "notes");
}

TEST(PoolOpenTest, CreateIsExclusive) {
  ScopedPool sut("excl");
  PoolOptions same = SmallOptions("y");
  same.name = sut.name();
  auto dup = Pool::Create(same);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(dup.status().message().find(sut.name()), std::string::npos);
}

TEST(PoolOpenTest, ModeIs0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{077}, mode_t{022}}) {
    const mode_t old = umask(mask);
    ScopedPool sut("umask");
    umask(old);
    EXPECT_EQ(ModeOf(sut.name()), 0600u) << "umask " << mask;
  }
}

TEST(PoolOpenTest, GroupModeOnRequest) {
  const mode_t old = umask(077);
  PoolOptions o = SmallOptions("group");
  o.mode = 0660;
  ScopedPool sut(o);
  umask(old);
  EXPECT_EQ(ModeOf(sut.name()), 0660u);
}

TEST(PoolOpenTest, RemoveThenOpenSaysNoSuchPool) {
  std::string name;
  {
    ScopedPool sut("gone");
    name = sut.name();
    ASSERT_TRUE(Pool::Remove(name).ok());
  }
  // The message names the pools there are (the first few, sorted): a
  // newcomer's pool is often just named otherwise.
  PoolOptions first = SmallOptions("here");
  first.name = "0-" + first.name;
  ScopedPool here(first);
  auto r = Pool::Open(name);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  const std::string& message = r.status().message();
  EXPECT_EQ(message.rfind("pool '" + name + "': no such pool (this host has: ", 0), 0) << message;
  EXPECT_NE(message.find(here.name()), std::string::npos) << message;
  EXPECT_EQ(message.find(name + ","), std::string::npos) << message;
  EXPECT_EQ(Pool::Remove(name).code(), StatusCode::kNotFound);
}

TEST(PoolOpenTest, RefusesBadNames) {
  for (const std::string& bad : std::vector<std::string>{"", "a/b", "sp ace", std::string(65, 'n'), "ü"}) {
    PoolOptions o = SmallOptions("n");
    o.name = bad;
    EXPECT_EQ(Pool::Create(o).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(Pool::Open(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PoolOpenTest, RefusesWrongMagic) {
  ScopedPool sut("magic");
  RawRegion(sut.name()).header().magic.store(0x1234);
  auto r = Pool::Open(sut.name());
  EXPECT_EQ(r.status().code(), StatusCode::kIncompatible);
  EXPECT_NE(r.status().message().find("not a slate pool"), std::string::npos);
}

TEST(PoolOpenTest, RefusesUninitialisedRegion) {
  ScopedPool sut("uninit");
  RawRegion(sut.name()).header().magic.store(0);
  auto r = Pool::Open(sut.name());
  EXPECT_EQ(r.status().code(), StatusCode::kIncompatible);
  EXPECT_NE(r.status().message().find("not initialised"), std::string::npos);
}

TEST(PoolOpenTest, RefusesOtherLayoutVersion) {
  ScopedPool sut("version");
  RawRegion(sut.name()).header().layout_version = 99;
  auto r = Pool::Open(sut.name());
  EXPECT_EQ(r.status().code(), StatusCode::kIncompatible);
  EXPECT_NE(r.status().message().find("layout version 99"), std::string::npos);
}

TEST(PoolOpenTest, RefusesSizeMismatch) {
  ScopedPool sut("size");
  {
    RawRegion raw(sut.name());
    ASSERT_EQ(ftruncate(raw.fd, static_cast<off_t>(raw.size + 4096)), 0);
  }
  auto r = Pool::Open(sut.name());
  EXPECT_EQ(r.status().code(), StatusCode::kIncompatible);
  EXPECT_NE(r.status().message().find("size mismatch"), std::string::npos);
}

TEST(PoolOpenTest, RefusesARegionThatIsNotAPool) {
  const std::string name = testing::UniquePoolName("foreign");
  const int fd = shm_open(("/" + ShmNameFor(name)).c_str(), O_CREAT | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 100), 0);
  close(fd);
  auto r = Pool::Open(name);
  EXPECT_EQ(r.status().code(), StatusCode::kIncompatible);
  EXPECT_NE(r.status().message().find("not a slate pool"), std::string::npos);
  ASSERT_TRUE(Pool::Remove(name).ok());
}

TEST(PoolOpenTest, RefusesARegionOwnedByAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown the region";
  ScopedPool sut("owner");
  ASSERT_EQ(chown(ShmPath(sut.name()).c_str(), 12345, 12345), 0);
  auto r = Pool::Open(sut.name());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("owned by uid 12345"), std::string::npos);
}

// Group mode: a member of the pool's group with another uid joins a 0660
// pool only when it says so (SLATE_TRUST_GROUP=1), and never a 0600 one.
TEST(PoolOpenTest, GroupModePoolIsJoinedByAnotherUserOnlyWhenTrusted) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  PoolOptions group = SmallOptions("grp");
  group.mode = 0660;
  ScopedPool shared(group);
  ScopedPool private_pool("grp-private");
  auto attempt = [&](const std::string& name, const char* trust) {
    return testing::WaitChild(testing::ForkChild([&, trust] {
      if (trust != nullptr) setenv("SLATE_TRUST_GROUP", trust, 1); else unsetenv("SLATE_TRUST_GROUP");
      // Same group as the creator (root's), another user.
      if (setgid(0) != 0 || setuid(12345) != 0) return 10;
      auto p = Pool::Open(name);
      if (p.ok()) return (*p)->Write(testing::MakeEntry("notes")).ok() ? 0 : 11;
      if (p.status().code() != StatusCode::kPermissionDenied) return 12;
      return p.status().message().find("SLATE_TRUST_GROUP") != std::string::npos ? 21 : 20;
    }));
  };
  auto code = [](int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; };
  EXPECT_EQ(code(attempt(shared.name(), nullptr)), 21);  // refused, says how to join
  EXPECT_EQ(code(attempt(shared.name(), "0")), 21);
  EXPECT_EQ(code(attempt(shared.name(), "1")), 0);   // joined, and wrote
  EXPECT_EQ(code(attempt(private_pool.name(), "1")), 20);  // 0600: never
  EXPECT_EQ(shared->Stats()->entries, 1u);
}

TEST(PoolOpenTest, RefusesAWorldWritableRegion) {
  ScopedPool sut("worldw");
  ASSERT_EQ(chmod(ShmPath(sut.name()).c_str(), 0666), 0);
  auto r = Pool::Open(sut.name());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("world-writable"), std::string::npos);
}

TEST(PoolOpenTest, ReadOnlyAttachmentReadsButNeverWrites) {
  ScopedPool sut("ro");
  auto id = sut->Write(testing::MakeEntry("notes"));
  ASSERT_TRUE(id.ok());
  auto ro = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_TRUE((*ro)->read_only());
  EXPECT_TRUE((*ro)->Read(*id).ok());
  EXPECT_EQ((*ro)->Write(testing::MakeEntry("notes")).status().code(), StatusCode::kReadOnly);
  EXPECT_EQ((*ro)->Erase(*id).code(), StatusCode::kReadOnly);
  EXPECT_TRUE((*ro)->Check().empty());
  auto stats = (*ro)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entries, 1u);
}

// A viewer of a pool that changes faster than it can copy it consistently
// shows its last consistent copy rather than failing (the busy group under
// a monitor or a dashboard), and sees the new state once it settles.
TEST(PoolOpenTest, AReadOnlyViewerOfABusyPoolShowsItsLastCopyInsteadOfFailing) {
  PoolOptions o = testing::SmallOptions("busy");
  o.slot_capacity = 1 << 16;
  o.data_bytes = 64ull << 20;
  ScopedPool sut(o);
  // Enough data that a copy takes long against a writer that never pauses.
  for (int i = 0; i < 2000; ++i) {
    NewEntry e = testing::MakeEntry("bulk", {}, 0.5f, "t", std::string(4 << 10, static_cast<char>('a' + i % 26)));
    auto id = sut->Write(e);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }
  auto ro = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok());
  (*ro)->SetSnapshotMaxAge(std::chrono::milliseconds(0));
  ASSERT_TRUE((*ro)->Stats().ok());  // a first consistent copy
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    NewEntry e = testing::MakeEntry("churn");
    while (!stop.load()) {
      auto id = sut->Write(e);
      if (id.ok()) (void)sut->Erase(*id);
    }
  });
  int failures = 0;
  for (int i = 0; i < 5; ++i) failures += !(*ro)->Stats().ok();
  stop = true;
  writer.join();
  EXPECT_EQ(failures, 0) << "a busy pool made its viewer fail";
  auto settled = (*ro)->Stats();
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(settled->entries, 2000u) << "once still, the viewer sees the pool as it is";
}

// A large pool costs memory for what it has used, from creation on, and a
// read-only viewer does not change that: its snapshot reads the file's data
// only, never its holes (reading those through a mapping allocates them).
TEST(PoolOpenTest, UnusedSpaceStaysUnallocatedThroughCreationAndViewers) {
  PoolOptions o = testing::SmallOptions("sparse");
  o.slot_capacity = 1 << 20;  // 128 MiB of slots
  o.data_bytes = 256ull << 20;
  ScopedPool sut(o);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(sut->Write(testing::MakeEntry("notes")).ok());
  auto allocated = [&] {
    struct stat st {};
    stat(("/dev/shm/" + ShmNameFor(sut.name())).c_str(), &st);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  };
  const uint64_t before = allocated();
  EXPECT_LT(before, 40ull << 20);  // the 4 MiB id index, the header, a few pages

  auto viewer = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(viewer.ok());
  ASSERT_TRUE((*viewer)->Stats().ok());
  Query q;
  q.limit = 0;
  EXPECT_EQ((*viewer)->Find(q)->size(), 100u);
  EXPECT_TRUE((*viewer)->Check().empty());

  EXPECT_EQ(allocated(), before);
}

}  // namespace
}  // namespace slate
