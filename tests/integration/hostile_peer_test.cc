// Peers that break the rules, in real processes: one shrinks the region's
// file under the others (ftruncate). Nobody may die of a silent SIGBUS:
// readers get a clear error, and a process that touches the lost part ends
// with kExitRegionLost and one line saying why.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "slate/process_setup.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using testing::ForkChild;
using testing::MakeEntry;
using testing::WaitChild;

void ShrinkRegion(const std::string& pool, off_t bytes) {
  const std::string shm = "/" + ShmNameFor(pool);
  const int fd = shm_open(shm.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, bytes), 0);
  close(fd);
}

// Everything the child writes to stderr, read after it exits.
struct Captured {
  int status = -1;
  std::string err;
};

Captured RunCapturingStderr(const std::function<int()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = ForkChild([&] {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    return fn();
  });
  close(fds[1]);
  Captured c;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) c.err.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  c.status = WaitChild(pid);
  return c;
}

TEST(HostilePeerTest, ShrunkRegionIsReportedNotFollowed) {
  testing::ScopedPool sut("shrink");
  ASSERT_TRUE(sut->Write(MakeEntry("notes")).ok());
  ASSERT_TRUE(sut->CheckMapping().ok());
  ShrinkRegion(sut.name(), 4096);
  const Status lost = sut->CheckMapping();
  EXPECT_EQ(lost.code(), StatusCode::kCorrupt);
  EXPECT_NE(lost.message().find("shrank"), std::string::npos) << lost.message();
  // A read-only attacher (slate-dump, slate-monitor) is refused up front.
  auto ro = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_FALSE(ro.ok());
  EXPECT_NE(ro.status().message().find(sut.name()), std::string::npos);
}

TEST(HostilePeerTest, ReadOnlyViewOfAShrunkRegionIsAnErrorNotSigbus) {
  testing::ScopedPool sut("shrink-ro");
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(sut->Write(MakeEntry("notes")).ok());
  auto ro = Pool::Open(sut.name(), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok());
  ShrinkRegion(sut.name(), 4096);
  auto stats = (*ro)->Stats();  // a snapshot copies the whole region
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("shrank"), std::string::npos);
  EXPECT_FALSE((*ro)->Find(Query{}).ok());
}

TEST(HostilePeerTest, WriterTouchingTheLostPartStopsWithAClearError) {
  testing::ScopedPool sut("shrink-rw");
  auto c = RunCapturingStderr([&] {
    auto p = Pool::Open(sut.name());
    if (!p.ok()) return 10;
    // Shrunk below the slots: the next write faults inside the lock.
    const std::string shm = "/" + ShmNameFor(sut.name());
    const int fd = shm_open(shm.c_str(), O_RDWR, 0);
    if (fd < 0 || ftruncate(fd, 4096) != 0) return 11;
    for (int i = 0; i < 10; ++i) (void)(*p)->Write(MakeEntry("notes"));
    return 12;  // never reached: the first write touches lost pages
  });
  ASSERT_TRUE(WIFEXITED(c.status)) << "died of signal " << WTERMSIG(c.status);
  EXPECT_EQ(WEXITSTATUS(c.status), kExitRegionLost);
  EXPECT_NE(c.err.find("pool '" + sut.name() + "'"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("shrunk"), std::string::npos) << c.err;
}

// The group's owner (slate-launch) creates with remove_if_lost: its fault
// on a shrunk region also removes the lost pool's name.
TEST(HostilePeerTest, OwnerFaultingOnAShrunkRegionRemovesItsName) {
  const std::string name = testing::UniquePoolName("shrink-owner");
  auto c = RunCapturingStderr([&] {
    PoolOptions o = testing::SmallOptions("unused");
    o.name = name;
    o.remove_if_lost = true;
    auto p = Pool::Create(o);
    if (!p.ok()) return 10;
    const int fd = shm_open(("/" + ShmNameFor(name)).c_str(), O_RDWR, 0);
    if (fd < 0 || ftruncate(fd, 4096) != 0) return 11;
    for (int i = 0; i < 10; ++i) (void)(*p)->Write(MakeEntry("notes"));
    return 12;
  });
  ASSERT_TRUE(WIFEXITED(c.status)) << "died of signal " << WTERMSIG(c.status);
  EXPECT_EQ(WEXITSTATUS(c.status), kExitRegionLost) << c.err;
  EXPECT_FALSE(Pool::Exists(name));
  (void)Pool::Remove(name);
}

TEST(HostilePeerTest, SigbusOutsideAnyPoolKeepsItsDefaultAction) {
  testing::ScopedPool sut("shrink-other");  // installs the handler
  const pid_t pid = ForkChild([] {
    char path[] = "/tmp/slate-sigbus-XXXXXX";
    const int fd = mkstemp(path);
    unlink(path);
    if (fd < 0 || ftruncate(fd, 8192) != 0) return 10;
    auto* p = static_cast<volatile char*>(
        mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    if (ftruncate(fd, 0) != 0) return 11;
    p[4096] = 1;  // not a pool: a plain SIGBUS
    return 12;
  });
  const int status = WaitChild(pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGBUS);
}

}  // namespace
}  // namespace slate
