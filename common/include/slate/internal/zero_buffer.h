// A private buffer that reads as zeros and costs memory only for the pages
// written: anonymous mmap, whose untouched pages are the shared zero page.
// Owns the mapping; move-only.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace slate::internal {

class ZeroBuffer {
 public:
  ZeroBuffer() = default;
  explicit ZeroBuffer(size_t bytes) : size_(bytes) {
    if (bytes == 0) return;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<uint8_t*>(p);
  }
  ~ZeroBuffer() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  ZeroBuffer(ZeroBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  ZeroBuffer& operator=(ZeroBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace slate::internal
