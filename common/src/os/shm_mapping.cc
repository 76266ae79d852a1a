#include "slate/internal/shm_mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include <boost/interprocess/exceptions.hpp>

#include "slate/internal/region_fault.h"
#include "slate/pool_options.h"

namespace slate::internal {
namespace bip = boost::interprocess;
namespace {

std::string Quote(const std::string& pool) { return "pool '" + pool + "'"; }

// "no such pool", naming the pools this user can see: a newcomer's pool is
// often just named otherwise ($SLATE_POOL, a --pool given to start).
Status NoSuchPool(const std::string& pool) {
  std::vector<std::string> pools;
  std::error_code ec;
  const std::string prefix = ShmNameFor("");
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && access(e.path().c_str(), R_OK) == 0)
      pools.push_back(name.substr(prefix.size()));
  }
  std::sort(pools.begin(), pools.end());
  std::string seen;
  for (size_t i = 0; i < pools.size() && i < 8; ++i) seen += (i ? ", " : "") + pools[i];
  if (pools.size() > 8) seen += ", ...";
  return {StatusCode::kNotFound,
          Quote(pool) + ": no such pool (" +
              (pools.empty() ? std::string("none on this host") : "this host has: " + seen) +
              ")"};
}

Status FromBoost(const std::string& pool, const char* doing,
                 const bip::interprocess_exception& e) {
  const std::string what = Quote(pool) + ": " + doing + ": " + e.what();
  switch (e.get_error_code()) {
    case bip::not_found_error:
      return NoSuchPool(pool);
    case bip::already_exists_error:
      return {StatusCode::kAlreadyExists, Quote(pool) + ": already exists"};
    case bip::security_error:
      return {StatusCode::kPermissionDenied, what};
    default:
      return {StatusCode::kIoError, what};
  }
}

bool InOurGroups(gid_t gid) {
  if (gid == getegid()) return true;
  const int n = getgroups(0, nullptr);
  if (n <= 0) return false;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  groups.resize(static_cast<size_t>(std::max(getgroups(n, groups.data()), 0)));
  return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

// A group-mode pool of one of our groups: exactly 0660, its group ours.
bool IsGroupPoolOfOurs(const struct stat& st) {
  return (st.st_mode & 0777) == 0660 && InOurGroups(st.st_gid);
}

// Another user's pool may be joined only in group mode, on purpose:
// SLATE_TRUST_GROUP=1 as well.
bool TrustsGroupPool(const struct stat& st) {
  const char* trust = std::getenv("SLATE_TRUST_GROUP");
  return trust != nullptr && std::string(trust) == "1" && IsGroupPoolOfOurs(st);
}

// Refuses a region this user must not trust or cannot use.
Status CheckOwnerAndMode(const std::string& pool, int fd, uint64_t* size) {
  struct stat st {};
  if (fstat(fd, &st) != 0)
    return {StatusCode::kIoError, Quote(pool) + ": cannot stat the region"};
  if (st.st_mode & S_IWOTH)
    return {StatusCode::kPermissionDenied,
            Quote(pool) + ": region is world-writable; refusing to trust it"};
  if (st.st_uid != geteuid() && !TrustsGroupPool(st)) {
    std::string why = Quote(pool) + ": owned by uid " + std::to_string(st.st_uid) +
                      ", not by this user (uid " + std::to_string(geteuid()) + ")";
    if (IsGroupPoolOfOurs(st))
      why += "; it is a group-mode pool of one of your groups: set SLATE_TRUST_GROUP=1 "
             "to join it";
    return {StatusCode::kPermissionDenied, why};
  }
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ShmMapping>> ShmMapping::Create(const std::string& pool,
                                                       uint64_t bytes,
                                                       uint32_t mode,
                                                       bool remove_if_lost) {
  std::unique_ptr<ShmMapping> m(new ShmMapping());
  const std::string name = ShmNameFor(pool);
  try {
    bip::permissions perm(static_cast<int>(mode));
    m->shm_ = bip::shared_memory_object(bip::create_only, name.c_str(),
                                        bip::read_write, perm);
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(pool, "cannot create", e);
  }
  try {
    m->shm_.truncate(static_cast<bip::offset_t>(bytes));
    m->region_ = bip::mapped_region(m->shm_, bip::read_write);
    m->fault_handle_ = RegisterRegion(m->data(), m->size(), pool, remove_if_lost);
  } catch (const bip::interprocess_exception& e) {
    bip::shared_memory_object::remove(name.c_str());
    return FromBoost(pool, "cannot size or map the region", e);
  }
  return m;
}

Result<std::unique_ptr<ShmMapping>> ShmMapping::Open(const std::string& pool,
                                                     bool read_only) {
  std::unique_ptr<ShmMapping> m(new ShmMapping());
  m->read_only_ = read_only;
  const std::string name = ShmNameFor(pool);
  const auto mode = read_only ? bip::read_only : bip::read_write;
  try {
    m->shm_ = bip::shared_memory_object(bip::open_only, name.c_str(), mode);
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(pool, "cannot open", e);
  }
  uint64_t size = 0;
  if (Status s = CheckOwnerAndMode(pool, m->shm_.get_mapping_handle().handle,
                                   &size);
      !s.ok())
    return s;
  if (size == 0)
    return Status{StatusCode::kIncompatible,
                  Quote(pool) + ": not a slate pool (empty region)"};
  try {
    m->region_ = bip::mapped_region(m->shm_, mode);
    m->fault_handle_ = RegisterRegion(m->data(), m->size(), pool);
  } catch (const bip::interprocess_exception& e) {
    return FromBoost(pool, "cannot map", e);
  }
  return m;
}

ShmMapping::~ShmMapping() { UnregisterRegion(fault_handle_); }

Status ShmMapping::CheckSize(const std::string& pool) const {
  struct stat st {};
  if (fstat(shm_.get_mapping_handle().handle, &st) != 0)
    return {StatusCode::kIoError, Quote(pool) + ": cannot stat the region"};
  if (static_cast<uint64_t>(st.st_size) < size())
    return {StatusCode::kCorrupt,
            Quote(pool) + ": the region's file shrank from " + std::to_string(size()) +
                " to " + std::to_string(st.st_size) +
                " bytes (another process truncated it); the pool is lost"};
  return Status::Ok();
}

Status ShmMapping::CopyTo(uint8_t* dst) const {
  const int fd = shm_.get_mapping_handle().handle;
  const auto end = static_cast<off_t>(size());
  auto copy = [&](off_t from, off_t to) {
    while (from < to) {
      const ssize_t n = pread(fd, dst + from, static_cast<size_t>(to - from), from);
      if (n <= 0) return false;
      from += n;
    }
    return true;
  };
  for (off_t at = 0; at < end;) {
    const off_t data = lseek(fd, at, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only holes from here on
    if (data < 0) return copy(at, end) ? Status::Ok()  // no hole support: copy it all
                                       : Status{StatusCode::kIoError, "cannot read the region"};
    const off_t hole = std::min(lseek(fd, data, SEEK_HOLE), end);
    if (hole <= data || !copy(data, hole))
      return {StatusCode::kIoError, "cannot read the region"};
    at = hole;
  }
  return Status::Ok();
}

namespace {
#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14; older kernels: EINVAL
#endif
constexpr uint64_t kPageBytes = 4096;
uint64_t PageUp(uint64_t v) { return (v + kPageBytes - 1) / kPageBytes * kPageBytes; }
}  // namespace

Status ShmMapping::Back(uint64_t offset, uint64_t bytes) const {
  const uint64_t from = offset / kPageBytes * kPageBytes;
  const uint64_t to = std::min(PageUp(offset + bytes), size());
  if (to <= from) return Status::Ok();
  // KEEP_SIZE: a file someone shrank stays shrunk (touching the lost part
  // is then the SIGBUS region_fault.h reports), never silently regrown.
  const int err = fallocate(shm_.get_mapping_handle().handle, FALLOC_FL_KEEP_SIZE,
                            static_cast<off_t>(from), static_cast<off_t>(to - from)) == 0
                      ? 0
                      : errno;
  if (err != 0)
    return {err == ENOSPC || err == ENOMEM ? StatusCode::kPoolFull : StatusCode::kIoError,
            "cannot grow into " + std::to_string((to - from) >> 10) +
                " KiB more of the region's file in /dev/shm: " + std::strerror(err) +
                (err == ENOSPC ? " (the file system is full: free space in /dev/shm, "
                                 "or create a smaller pool)"
                               : "")};
  Prefault(from, to - from);
  return Status::Ok();
}

void ShmMapping::Prefault(uint64_t offset, uint64_t bytes) const {
  const uint64_t from = offset / kPageBytes * kPageBytes;
  const uint64_t to = std::min(PageUp(offset + bytes), size());
  if (to <= from || read_only_) return;
  (void)madvise(data() + from, to - from, MADV_POPULATE_WRITE);
}

Status ShmMapping::Unlink(const std::string& pool) {
  const std::string name = ShmNameFor(pool);
  if (!bip::shared_memory_object::remove(name.c_str()))
    return NoSuchPool(pool);
  return Status::Ok();
}

}  // namespace slate::internal
