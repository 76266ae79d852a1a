#include "slate/internal/region_fault.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "slate/pool_options.h"
#include "slate/process_setup.h"

namespace slate::internal {
namespace {

constexpr int kMaxRegions = 64;

// Written by (un)registering threads under g_table_mu; read by the handler
// without a lock: a row is published by storing its size last (release) and
// withdrawn by zeroing the size first.
struct RegionRow {
  std::atomic<uintptr_t> base{0};
  std::atomic<size_t> bytes{0};
  char pool[80] = {};
  char unlink_path[96] = {};  // "" unless remove_if_lost
};
RegionRow g_rows[kMaxRegions];
std::mutex g_table_mu;
std::once_flag g_install_once;

void WriteAll(const char* s, size_t n) {
  while (n > 0) {
    const ssize_t w = write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}
void WriteStr(const char* s) { WriteAll(s, strlen(s)); }

// Async-signal-safe: write(2), strlen and _exit only.
void OnSigbus(int sig, siginfo_t* info, void*) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (const RegionRow& row : g_rows) {
    const size_t bytes = row.bytes.load(std::memory_order_acquire);
    const uintptr_t base = row.base.load(std::memory_order_relaxed);
    if (bytes == 0 || addr < base || addr - base >= bytes) continue;
    if (row.unlink_path[0] != '\0') unlink(row.unlink_path);  // async-signal-safe
    WriteStr("slate: pool '");
    WriteStr(row.pool);
    WriteStr("': the region's file was shrunk under this process (another "
             "process truncated it?), or /dev/shm had no room for a page; the "
             "pool is lost: stopping\n");
    _exit(kExitRegionLost);
  }
  // Not ours: the default action, as if no handler had been installed.
  signal(sig, SIG_DFL);
  raise(sig);
}

void Install() {
  struct sigaction sa {};
  sa.sa_sigaction = OnSigbus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, nullptr);
}

}  // namespace

int RegisterRegion(const void* base, size_t bytes, const std::string& pool,
                   bool remove_if_lost) {
  std::call_once(g_install_once, Install);
  std::lock_guard<std::mutex> lock(g_table_mu);
  for (int i = 0; i < kMaxRegions; ++i) {
    RegionRow& row = g_rows[i];
    if (row.bytes.load(std::memory_order_relaxed) != 0) continue;
    const size_t n = std::min(pool.size(), sizeof row.pool - 1);
    std::memcpy(row.pool, pool.data(), n);
    row.pool[n] = '\0';
    const std::string path = remove_if_lost ? "/dev/shm/" + ShmNameFor(pool) : "";
    const size_t m = std::min(path.size(), sizeof row.unlink_path - 1);
    std::memcpy(row.unlink_path, path.data(), m);
    row.unlink_path[m] = '\0';
    row.base.store(reinterpret_cast<uintptr_t>(base), std::memory_order_relaxed);
    row.bytes.store(bytes, std::memory_order_release);
    return i;
  }
  return -1;
}

void UnregisterRegion(int handle) {
  if (handle < 0 || handle >= kMaxRegions) return;
  std::lock_guard<std::mutex> lock(g_table_mu);
  g_rows[handle].bytes.store(0, std::memory_order_release);
}

}  // namespace slate::internal
