// The named shared-memory object behind a pool, mapped into this process.
//
// Owns the mapping (RAII, move-only); never removes the name: only
// Pool::Remove does. Creation is exclusive (O_EXCL) and sets the mode with
// fchmod, so the umask cannot widen or narrow it. Opening checks owner, mode
// and size before mapping a byte.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include "slate/status.h"

namespace slate::internal {

class ShmMapping {
 public:
  static Result<std::unique_ptr<ShmMapping>> Create(const std::string& pool,
                                                    uint64_t bytes,
                                                    uint32_t mode,
                                                    bool remove_if_lost = false);
  static Result<std::unique_ptr<ShmMapping>> Open(const std::string& pool,
                                                  bool read_only);
  // Removes the name; mappings stay valid until unmapped.
  static Status Unlink(const std::string& pool);

  ~ShmMapping();
  ShmMapping(const ShmMapping&) = delete;
  ShmMapping& operator=(const ShmMapping&) = delete;

  // The region's file is still at least as large as the mapping; otherwise a
  // clear error (another process shrank it: touching the lost part would
  // raise SIGBUS). One fstat: for periodic checks, not per operation.
  Status CheckSize(const std::string& pool) const;

  // Copies the region's current bytes to dst (size() bytes) with pread,
  // reading only the file's data: pages never written are holes, and
  // reading them through the mapping would allocate them (a read-only
  // viewer would fill /dev/shm with zeros). REQUIRES: dst is zero wherever
  // the file has a hole, e.g. fresh from a ZeroBuffer.
  Status CopyTo(uint8_t* dst) const;

  // Allocates the file's pages for [offset, offset + bytes) (rounded out to
  // pages) and maps them into this process. kPoolFull, naming the file
  // system, when it has no room: a first touch would have raised SIGBUS.
  Status Back(uint64_t offset, uint64_t bytes) const;
  // Maps the file's pages for the range into this process ahead of use, so
  // that touching them later takes no page fault. Best effort.
  void Prefault(uint64_t offset, uint64_t bytes) const;

  uint8_t* data() const { return static_cast<uint8_t*>(region_.get_address()); }
  uint64_t size() const { return region_.get_size(); }
  bool read_only() const { return read_only_; }

 private:
  ShmMapping() = default;

  boost::interprocess::shared_memory_object shm_;
  boost::interprocess::mapped_region region_;
  bool read_only_ = false;
  int fault_handle_ = -1;  // region_fault.h registration
};

}  // namespace slate::internal
