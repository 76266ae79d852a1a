// libFuzzer target: a pool region whose bytes the fuzzer chooses, attached
// the way slate-dump and slate-monitor attach (read-only, no lock), then
// every read-only view: stats, agents, check(), a full listing rendered as
// table and JSON, and the monitor's group snapshot. Property: none of them
// crashes, hangs or reads outside the region, whatever the bytes; a damaged
// region is refused with a message or yields violations.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "slate/dump.h"
#include "slate/group_snapshot.h"
#include "slate/internal/pool_impl.h"
#include "slate/json_payload.h"
#include "slate/pool.h"

namespace {

// Never destroyed: the atexit hook below may run after static destructors.
const std::string& FuzzPoolName() {
  static const auto* name = new std::string("fuzz-region-" + std::to_string(getpid()));
  return *name;
}

void RemoveFuzzPool() { (void)slate::Pool::Remove(FuzzPoolName()); }

// The region file holds exactly the fuzzer's bytes.
bool WriteRegion(const uint8_t* data, size_t size) {
  const std::string shm = "/" + slate::ShmNameFor(FuzzPoolName());
  const int fd = shm_open(shm.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  return done == size;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  slate::internal::g_snapshot_settle_attempts = 0;
  std::atexit(RemoveFuzzPool);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!WriteRegion(data, size)) std::abort();
  auto pool = slate::Pool::Open(FuzzPoolName(), slate::OpenMode::kReadOnly);
  // The mapping outlives the name: without it, an exit that skips atexit
  // (libFuzzer's, on a crash or at the end of -max_total_time) leaves no
  // file in /dev/shm.
  RemoveFuzzPool();
  if (!pool.ok()) {
    if (pool.status().message().empty()) std::abort();  // refusals say why
    return 0;
  }
  slate::Pool& p = **pool;
  auto stats = p.Stats();
  auto agents = p.ListAgents(std::chrono::seconds(5));
  if (stats.ok() && agents.ok()) {
    (void)slate::FormatStats(*stats, *agents);
    (void)slate::JsonText(slate::StatsToJson(*stats, *agents));
  }
  (void)p.Check();
  slate::Query all;
  all.limit = 0;
  if (auto found = p.Find(all); found.ok()) {
    for (const auto& e : *found) {
      (void)slate::EntryTableRow(e);
      (void)slate::JsonText(slate::EntryToJson(e));
    }
  }
  if (auto snap = slate::TakeGroupSnapshot(p); snap.ok())
    (void)slate::JsonText(slate::SnapshotToJson(*snap), 2);
  return 0;
}
