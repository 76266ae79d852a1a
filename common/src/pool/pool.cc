// Pool lifecycle: create, open, remove; the lock guard and recovery; the
// read-only snapshot.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "slate/clock.h"
#include "slate/internal/crash_point.h"
#include "slate/internal/event_count.h"
#include "slate/internal/lock_profile.h"
#include "slate/internal/pool_impl.h"
#include "slate/internal/robust_mutex.h"
#include "slate/internal/spin_wait.h"

namespace slate {
using namespace internal;

namespace {

Status PoolError(const std::string& name, StatusCode code,
                 const std::string& why) {
  return {code, "pool '" + name + "': " + why};
}

// Checks the header of a mapped region before anything else reads it.
Status ValidateHeader(const std::string& name, const ShmMapping& m,
                      Geometry* geo) {
  if (m.size() < sizeof(Header))
    return PoolError(name, StatusCode::kIncompatible,
                     "not a slate pool (region too small)");
  const Header& h = *reinterpret_cast<const Header*>(m.data());
  const uint64_t magic = h.magic.load(std::memory_order_acquire);
  if (magic == 0)
    return PoolError(name, StatusCode::kIncompatible,
                     "not initialised (being created, or its creator died "
                     "during creation; remove it and create again)");
  if (magic != kMagic)
    return PoolError(name, StatusCode::kIncompatible,
                     "not a slate pool (wrong magic)");
  if (h.layout_version != kLayoutVersion)
    return PoolError(name, StatusCode::kIncompatible,
                     "layout version " + std::to_string(h.layout_version) +
                         ", this build reads version " +
                         std::to_string(kLayoutVersion));
  std::memcpy(geo, &h.geo, sizeof(Geometry));
  if (Status s = ValidateGeometry(*geo, m.size()); !s.ok())
    return PoolError(name, s.code(), s.message());
  const Region r(m.data(), *geo);
  for (uint32_t i = 0; i < kBuiltinSegments; ++i)
    if (strncmp(r.segment(i).rec.name, BuiltinSegmentName(i),
                kMaxSegmentBytes) != 0)
      return PoolError(name, StatusCode::kCorrupt,
                       "built-in segment table is damaged");
  return Status::Ok();
}

// Undoes the journal and rebuilds the derived structures. Rebuild reads a
// live region that a scribbler may still be writing, so it may find it
// damaged again halfway; it is simply run again.
struct Repair {
  int undone = 0;
  std::vector<std::string> repairs;
  double ms = 0;
};
Repair RollBackAndRebuild(const Region& r) {
  const auto start = std::chrono::steady_clock::now();
  Repair out;
  out.undone = UndoJournal(r);
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      out.repairs = Rebuild(r);
      break;
    } catch (const RegionCorrupt& e) {
      out.repairs = {std::string("rebuild interrupted: ") + e.what()};
    }
  }
  out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
               .count();
  return out;
}

}  // namespace

namespace internal {

std::atomic<int> g_snapshot_settle_attempts{20};

void FormatRegion(const Region& r, const std::string& name) {
  Header& h = r.header();
  h.layout_version = kLayoutVersion;
  h.header_bytes = sizeof(Header);
  std::memcpy(&h.geo, &r.geo(), sizeof(Geometry));
  h.creator_uid = geteuid();
  h.creator_pid = getpid();
  h.created_ns = NowRealNs();
  for (uint32_t i = 0; i < kBuiltinSegments; ++i) {
    SegmentRecord& rec = r.segment(i).rec;
    rec.used = 1;
    std::memcpy(rec.name, BuiltinSegmentName(i), strlen(BuiltinSegmentName(i)));
  }
  h.counters.next_id = 1;  // high-water marks 0: no slot or cell touched yet
  for (const auto& repair : Rebuild(r))
    spdlog::warn("pool '{}': creation: {}", name, repair);
}

}  // namespace internal


bool IsValidPoolName(const std::string& name, std::string* why) {
  if (IsValidName(name, 64)) return true;
  if (why != nullptr)
    *why = "pool name '" + name.substr(0, 80) +
           "' must be 1 to 64 characters of [A-Za-z0-9._-]";
  return false;
}

std::string ShmNameFor(const std::string& pool_name) {
  return "slate." + pool_name;
}

Pool::Pool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pool::~Pool() = default;
const std::string& Pool::name() const { return impl_->name_; }
bool Pool::read_only() const { return impl_->read_only_; }

Result<std::unique_ptr<Pool>> Pool::Create(const PoolOptions& options) {
  std::string why;
  if (!IsValidPoolName(options.name, &why))
    return Status{StatusCode::kInvalidArgument, why};
  auto geo = ComputeGeometry(options);
  if (!geo.ok())
    return PoolError(options.name, geo.status().code(), geo.status().message());
  auto map = ShmMapping::Create(options.name, geo->region_bytes, options.mode,
                                options.remove_if_lost);
  if (!map.ok()) return map.status();
  const Region r((*map)->data(), *geo);
  if (Status s = InitRobustMutex(&r.header().mutex); !s.ok()) {
    (void)ShmMapping::Unlink(options.name);
    return PoolError(options.name, s.code(), s.message());
  }
  FormatRegion(r, options.name);
  if (options.reserve) {
    // Nobody can attach before the magic: no lock needed to back it all.
    const Status s = RegionBacking(**map, r).EnsureLocked(geo->slot_capacity, geo->cell_count);
    if (!s.ok()) {
      (void)ShmMapping::Unlink(options.name);
      return PoolError(options.name, s.code(), "cannot reserve the region: " + s.message());
    }
  }
  // Published last: an attacher that sees the magic sees a whole pool.
  r.header().magic.store(kMagic, std::memory_order_release);
  ArmCrashPointFromEnv();
  return std::unique_ptr<Pool>(new Pool(
      std::make_unique<Impl>(options.name, std::move(*map), *geo)));
}

Result<std::unique_ptr<Pool>> Pool::Open(const std::string& name,
                                         OpenMode mode) {
  std::string why;
  if (!IsValidPoolName(name, &why))
    return Status{StatusCode::kInvalidArgument, why};
  auto map = ShmMapping::Open(name, mode == OpenMode::kReadOnly);
  if (!map.ok()) return map.status();
  Geometry geo{};
  if (Status s = ValidateHeader(name, **map, &geo); !s.ok()) return s;
  ArmCrashPointFromEnv();
  return std::unique_ptr<Pool>(
      new Pool(std::make_unique<Impl>(name, std::move(*map), geo)));
}

Status Pool::Remove(const std::string& name) {
  std::string why;
  if (!IsValidPoolName(name, &why))
    return {StatusCode::kInvalidArgument, why};
  return ShmMapping::Unlink(name);
}

bool Pool::Exists(const std::string& name) {
  struct stat st {};
  return IsValidPoolName(name) && stat(("/dev/shm/" + ShmNameFor(name)).c_str(), &st) == 0;
}

namespace {
uint64_t NextSerial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

Pool::Impl::Impl(std::string name, std::unique_ptr<ShmMapping> map,
                 const Geometry& geo)
    : name_(std::move(name)),
      map_(std::move(map)),
      region_(map_->data(), geo),
      backing_(*map_, region_),
      read_only_(map_->read_only()),
      serial_(NextSerial()) {}

Status Pool::Impl::RequireWritable() const {
  if (read_only_)
    return PoolError(name_, StatusCode::kReadOnly,
                     "attached read-only; this operation writes");
  return Status::Ok();
}

bool Pool::Impl::SpinPays() const {
  static const auto cpus = static_cast<uint32_t>(UsableCpus());
  return region_.header().derived.agents_registered.load(std::memory_order_relaxed) <= cpus;
}

Pool::Impl::Guard::Guard(const Impl& impl, LockUse use)
    : impl_(impl), uncaught_on_entry_(std::uncaught_exceptions()), use_(use) {
  Header& h = impl_.region_.header();
  if (!impl_.read_only_) impl_.backing_.CatchUp();  // page faults outside the lock
  const bool profiled = LockProfileOn();
  if (profiled) asked_ns_ = NowMonoNs();
  // Fewer spinners than CPUs, so a spinner never keeps the holder off one.
  static const int max_spinners = std::min(UsableCpus() - 1, kMaxLockSpinners);
  const LockOutcome outcome =
      LockRobustSpinning(&h.mutex, h.change_seq, h.lock_spinners, max_spinners);
  if (profiled) held_ns_ = NowMonoNs();
  switch (outcome) {
    case LockOutcome::kAcquired:
      break;
    case LockOutcome::kOwnerDied:
      impl_.RecoverLocked();
      MarkConsistent(&h.mutex);
      break;
    case LockOutcome::kNotRecoverable:
      status_ = PoolError(impl_.name_, StatusCode::kCorrupt,
                          "lock is not recoverable; recreate the pool");
      return;
    case LockOutcome::kFailed:
      status_ = PoolError(impl_.name_, StatusCode::kIoError,
                          "cannot take the pool lock");
      return;
  }
  locked_ = true;
  // Odd while we may change things. A dead holder may have left it odd
  // already; then it stays odd until our unlock. Only lock holders write it,
  // so a plain store suffices; the fence orders it before our changes.
  const uint64_t seq = h.change_seq.load(std::memory_order_relaxed);
  if ((seq & 1) == 0) {
    h.change_seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  // A fenced handle does nothing, reads included, once its term is over.
  if (impl_.fence_.term != 0) status_ = impl_.CheckFenceLocked();
}

Pool::Impl::Guard::~Guard() {
  if (!locked_) return;
  if (std::uncaught_exceptions() > uncaught_on_entry_)
    impl_.RepairLocked("an operation stopped halfway on an exception");
  Header& h = impl_.region_.header();
  h.change_seq.store(h.change_seq.load(std::memory_order_relaxed) + 1,
                     std::memory_order_release);
  if (held_ns_ != 0) RecordLockUse(use_, held_ns_ - asked_ns_, NowMonoNs() - held_ns_);
  UnlockRobust(&h.mutex);
  for (int i = 0; i < nnotify_; ++i) internal::Notify(*notify_[i]);
}

void Pool::Impl::Guard::Notify(EventWord* e) {
  for (int i = 0; i < nnotify_; ++i)
    if (notify_[i] == e) return;
  if (nnotify_ < kMaxNotify) {
    notify_[nnotify_++] = e;
  } else {
    internal::Notify(*e);
  }
}

namespace {

void WakeEveryone(const Region& r) {
  Header& h = r.header();
  Notify(h.entries_event);
  Notify(h.shared_event);
  for (uint32_t row = 1; row <= r.geo().agent_capacity; ++row) Notify(r.agent(row).wake);
}

}  // namespace

void Pool::Impl::RecoverLocked() const {
  Header& h = region_.header();
  const char* op = OpName(static_cast<OpCode>(h.journal.op));
  const Repair done = RollBackAndRebuild(region_);
  h.recoveries += 1;
  spdlog::warn(
      "pool '{}': the previous lock holder died (in '{}'); rolled back {} "
      "journal record(s), rebuilt indexes in {:.1f} ms (recovery #{})",
      name_, done.undone > 0 ? op : "no transaction", done.undone, done.ms, h.recoveries);
  for (const auto& r : done.repairs) spdlog::error("pool '{}': {}", name_, r);
  // Wake every sleeper: the dead holder may have died before its wake-ups.
  WakeEveryone(region_);
}

void Pool::Impl::RepairLocked(const std::string& why) const noexcept {
  try {
    Header& h = region_.header();
    const Repair done = RollBackAndRebuild(region_);
    h.recoveries += 1;
    spdlog::error(
        "pool '{}': damaged region: {}; rolled back {} journal record(s), rebuilt "
        "indexes in {:.1f} ms (recovery #{})",
        name_, why, done.undone, done.ms, h.recoveries);
    for (const auto& r : done.repairs) spdlog::error("pool '{}': {}", name_, r);
    WakeEveryone(region_);
  } catch (...) {
    // Out of memory for the rebuild's tables: the next locker tries again.
  }
}

Status Pool::Impl::CorruptStatus(const std::string& why) const {
  return PoolError(name_, StatusCode::kCorrupt,
                   "damaged region (" + why + "); repaired, but the operation failed " +
                       std::to_string(kRepairAttempts) + " times");
}

void Pool::SetSnapshotMaxAge(std::chrono::milliseconds max_age) {
  impl_->snapshot_max_age_ns_ = max_age.count() * 1'000'000;
}

Result<std::shared_ptr<Pool::Impl::Snapshot>> Pool::Impl::CurrentSnapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  const int64_t now = NowMonoNs();
  if (cached_ && now - cached_at_ns_ <= snapshot_max_age_ns_) return cached_;
  auto snap =
      TakeSnapshot(cached_ ? internal::kStaleFallbackAttempts : internal::kSnapshotAttempts);
  if (!snap.ok() && snap.status().code() == StatusCode::kTimedOut && cached_)
    return cached_;  // stale, and tried again at the next read
  if (!snap.ok()) return snap.status();
  cached_ = std::move(*snap);
  cached_at_ns_ = now;
  return cached_;
}

Result<std::unique_ptr<Pool::Impl::Snapshot>> Pool::Impl::TakeSnapshot(int attempts) const {
  if (Status s = map_->CheckSize(name_); !s.ok()) return s;
  auto snap = std::make_unique<Snapshot>(Snapshot{ZeroBuffer(map_->size()), region_, false});
  const Header& live = region_.header();
  const int settle = g_snapshot_settle_attempts.load(std::memory_order_relaxed);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const uint64_t before = live.change_seq.load(std::memory_order_acquire);
    if (Status s = map_->CopyTo(snap->bytes.data()); !s.ok()) return PoolError(name_, s.code(), s.message());
    std::atomic_thread_fence(std::memory_order_acquire);
    const uint64_t after = live.change_seq.load(std::memory_order_relaxed);
    snap->region = Region(snap->bytes.data(), region_.geo());
    if (before == after && (before & 1) == 0) return snap;
    if (before == after && attempt >= settle) {
      // Odd and not moving: the holder is stuck or dead. Show what the next
      // locker would see.
      RollBackAndRebuild(snap->region);
      snap->recovered = true;
      return snap;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return PoolError(name_, StatusCode::kTimedOut,
                   "pool changes too fast for a consistent read-only snapshot");
}

Result<std::unique_ptr<Pool::Impl::Snapshot>> Pool::Impl::RepairedSnapshot() const {
  auto snap = TakeSnapshot();
  if (!snap.ok()) return snap.status();
  RollBackAndRebuild((*snap)->region);
  (*snap)->recovered = true;
  return snap;
}

}  // namespace slate
