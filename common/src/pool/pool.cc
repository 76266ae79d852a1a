// Pool lifecycle: create, open, remove; the lock guard and recovery; the
// read-only snapshot.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
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
  // Shard journals first: a shard transaction and a pool one never overlap
  // (a pool holder holds every shard), so the order only has to be fixed.
  for (uint32_t row = 1; row <= r.geo().agent_capacity; ++row)
    out.undone += UndoShardJournal(r, row);
  out.undone += UndoJournal(r);
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
  Status init = InitRobustMutex(&r.header().mutex);
  for (uint32_t row = 1; row <= geo->agent_capacity && init.ok(); ++row)
    init = InitRobustMutex(&r.agent(row).shard_mutex);
  if (Status s = init; !s.ok()) {
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

Pool::Impl::Guard::Guard(const Impl& impl, LockUse use, ShardMode shards)
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
    case LockOutcome::kOwnerDied:
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
  outer_ = t_holding;
  t_holding = this;
  // Odd while we may change things. A dead holder may have left it odd
  // already; then it stays odd until our unlock. Only lock holders write it,
  // so a plain store suffices; the fence orders it before our changes.
  const uint64_t seq = h.change_seq.load(std::memory_order_relaxed);
  if ((seq & 1) == 0) {
    h.change_seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  const bool holder_died = outcome == LockOutcome::kOwnerDied;
  if (shards == ShardMode::kAll || holder_died ||
      h.shards_dirty.load(std::memory_order_acquire) != 0)
    RecoverIfDue(holder_died);
  if (holder_died) MarkConsistent(&h.mutex);
  // A fenced handle does nothing, reads included, once its term is over.
  if (status_.ok() && impl_.fence_.term != 0) status_ = impl_.CheckFenceLocked();
}

namespace {

// Takes agent row `row`'s shard lock, after a brief spin while spinning
// pays. From a dead holder it returns kOwnerDied holding the lock, the
// shard's journal undone, its change counter even and the lock marked
// consistent: the caller must see the queues rebuilt before it reads them.
LockOutcome TakeShardLock(const Pool::Impl& im, uint32_t row) {
  AgentRow& a = im.region_.agent(row);
  const LockOutcome out = LockRobustBriefSpin(&a.shard_mutex, im.SpinPays() ? kSpinBudgetNs : 0);
  if (out != LockOutcome::kOwnerDied) return out;
  const auto op = static_cast<OpCode>(a.shard_journal.op);
  const int undone = UndoShardJournal(im.region_, row);
  spdlog::warn("pool '{}': the holder of agent row {}'s shard lock died ({}); rolled back {} "
               "journal record(s); the pool lock's holder rebuilds",
               im.name_, row, undone > 0 ? OpName(op) : "no transaction", undone);
  const uint64_t seq = a.shard_seq.load(std::memory_order_relaxed);
  if ((seq & 1) != 0) a.shard_seq.store(seq + 1, std::memory_order_release);
  MarkConsistent(&a.shard_mutex);
  return out;
}

}  // namespace

thread_local Pool::Impl::Guard* Pool::Impl::Guard::t_holding = nullptr;

bool Pool::Impl::Guard::RecoverIfDue(bool holder_died) {
  // Every shard before any repair: no claim runs beside it.
  HoldRegisteredShards();
  if (!status_.ok()) return false;
  Header& h = impl_.region_.header();
  if (!holder_died && !dead_shard_ && h.shards_dirty.load(std::memory_order_acquire) == 0)
    return false;
  impl_.RecoverLocked(holder_died);
  h.shards_dirty.store(0, std::memory_order_release);
  dead_shard_ = false;
  HoldRegisteredShards();  // rows the rebuild found registered
  return true;
}

void Pool::Impl::Guard::HoldRegisteredShards() {
  const Region& r = impl_.region_;
  const uint64_t* registered = r.header().derived.registered_rows;
  for (uint32_t w = 0; w < kAgentRowWords && status_.ok(); ++w)
    for (uint64_t bits = registered[w] & ~shards_[w]; bits != 0 && status_.ok();
         bits &= bits - 1)
      LockShard(w * 64 + static_cast<uint32_t>(std::countr_zero(bits)));
}

void Pool::Impl::Guard::HoldShard(uint32_t row) {
  if (!impl_.region_.ValidAgentRow(row) || (shards_[row / 64] >> (row % 64) & 1) != 0) return;
  LockShard(row);
  if (!status_.ok()) throw RegionCorrupt(status_.message());
  // A dead holder found here, or one found by a claimer since this hold
  // began: the queues are rebuilt now, and the step that asked runs again
  // on them (RepairingLocked).
  if (dead_shard_ || impl_.region_.header().shards_dirty.load(std::memory_order_acquire) != 0) {
    RecoverIfDue(false);
    throw RetryAfterRecovery();
  }
}

void Pool::Impl::Guard::LockShard(uint32_t row) {
  const Region& r = impl_.region_;
  // An invalid row is damage in the registered bitmap: the rebuild clears it.
  if (!r.ValidAgentRow(row) || (shards_[row / 64] >> (row % 64) & 1) != 0) return;
  AgentRow& a = r.agent(row);
  switch (TakeShardLock(impl_, row)) {
    case LockOutcome::kAcquired:
      break;
    case LockOutcome::kOwnerDied:
      // Its holder died mid-claim, or a pool holder died holding it: the
      // caller rebuilds before anything reads the queue.
      dead_shard_ = true;
      break;
    case LockOutcome::kNotRecoverable:
    case LockOutcome::kFailed:
      status_ = PoolError(impl_.name_, StatusCode::kCorrupt,
                          "the lock of agent row " + std::to_string(row) +
                              "'s shard cannot be taken; recreate the pool");
      return;
  }
  shards_[row / 64] |= uint64_t{1} << (row % 64);
  // The shard's claims into the pool's task counts.
  Derived& d = r.header().derived;
  d.tasks[static_cast<int>(TaskState::kPending)] -= a.shard_claims;
  d.tasks[static_cast<int>(TaskState::kRunning)] += a.shard_claims;
  a.shard_claims = 0;
}

void Pool::Impl::Guard::HoldEveryShard() {
  HoldRegisteredShards();
  dead_shard_ = false;  // the caller rebuilds
}

Pool::Impl::Guard::~Guard() {
  if (!locked_) return;
  if (std::uncaught_exceptions() > uncaught_on_entry_)
    impl_.RepairLocked("an operation stopped halfway on an exception");
  t_holding = outer_;
  Header& h = impl_.region_.header();
  for (uint32_t w = 0; w < kAgentRowWords; ++w)
    for (uint64_t bits = shards_[w]; bits != 0; bits &= bits - 1)
      UnlockRobust(&impl_.region_.agent(w * 64 + static_cast<uint32_t>(std::countr_zero(bits)))
                        .shard_mutex);
  h.change_seq.store(h.change_seq.load(std::memory_order_relaxed) + 1,
                     std::memory_order_release);
  if (held_ns_ != 0) RecordLockUse(use_, held_ns_ - asked_ns_, NowMonoNs() - held_ns_);
  UnlockRobust(&h.mutex);
  for (int i = 0; i < nnotify_; ++i) internal::Notify(*notify_[i]);
}

Pool::Impl::ShardGuard::ShardGuard(const Impl& impl, uint32_t row, LockUse use)
    : impl_(impl), row_(impl.region_.agent(row)), index_(row), use_(use) {
  Header& h = impl_.region_.header();
  const bool profiled = LockProfileOn();
  if (profiled) asked_ns_ = NowMonoNs();
  switch (TakeShardLock(impl_, index_)) {
    case LockOutcome::kAcquired:
      break;
    case LockOutcome::kOwnerDied:
      // The queue's links may be half changed, and only a holder of every
      // lock may rebuild them. Dirty before the unlock: nobody takes this
      // shard before that rebuild.
      h.shards_dirty.store(1, std::memory_order_release);
      UnlockRobust(&row_.shard_mutex);
      return;
    case LockOutcome::kNotRecoverable:
    case LockOutcome::kFailed:
      return;  // the pool lock's holder reports it
  }
  if (h.shards_dirty.load(std::memory_order_acquire) != 0) {
    UnlockRobust(&row_.shard_mutex);
    return;
  }
  if (profiled) held_ns_ = NowMonoNs();
  row_.shard_seq.store(row_.shard_seq.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  held_ = true;
}

Pool::Impl::ShardGuard::~ShardGuard() {
  if (!held_) return;
  row_.shard_seq.store(row_.shard_seq.load(std::memory_order_relaxed) + 1,
                       std::memory_order_release);
  if (held_ns_ != 0) RecordLockUse(use_, held_ns_ - asked_ns_, NowMonoNs() - held_ns_);
  UnlockRobust(&row_.shard_mutex);
}

void Pool::Impl::ShardGuard::MarkDirty() {
  impl_.region_.header().shards_dirty.store(1, std::memory_order_release);
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

void Pool::Impl::RecoverLocked(bool holder_died) const {
  Header& h = region_.header();
  const char* op = OpName(static_cast<OpCode>(h.journal.op));
  const Repair done = RollBackAndRebuild(region_);
  h.recoveries += 1;
  if (holder_died)
    spdlog::warn(
        "pool '{}': the previous lock holder died (in '{}'); rolled back {} "
        "journal record(s), rebuilt indexes in {:.1f} ms (recovery #{})",
        name_, done.undone > 0 ? op : "no transaction", done.undone, done.ms, h.recoveries);
  else
    spdlog::warn("pool '{}': a shard's lock holder died or met damage; rebuilt indexes in {:.1f} ms "
                 "(recovery #{})",
                 name_, done.ms, h.recoveries);
  for (const auto& r : done.repairs) spdlog::error("pool '{}': {}", name_, r);
  // Wake every sleeper: the dead holder may have died before its wake-ups.
  WakeEveryone(region_);
}

void Pool::Impl::RepairLocked(const std::string& why) const noexcept {
  try {
    // A rebuild rewrites every queue: no claim may run beside it.
    if (Guard* g = Guard::t_holding; g != nullptr && g->Holds(*this)) g->HoldEveryShard();
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
  // The pool's change_seq and every shard's: each only grows, so equal
  // sums before and after the copy mean that none moved. The shards' are
  // read before the pool's and after it: a pool holder holds every shard.
  auto shard_seqs = [&](bool* odd) {
    uint64_t sum = 0;
    for (uint32_t row = 1; row <= region_.geo().agent_capacity; ++row) {
      const uint64_t seq = region_.agent(row).shard_seq.load(std::memory_order_acquire);
      sum += seq;
      *odd = *odd || (seq & 1) != 0;
    }
    return sum;
  };
  for (int attempt = 0; attempt < attempts; ++attempt) {
    bool odd = false;
    const uint64_t shards_before = shard_seqs(&odd);
    const uint64_t before = live.change_seq.load(std::memory_order_acquire);
    if (Status s = map_->CopyTo(snap->bytes.data()); !s.ok()) return PoolError(name_, s.code(), s.message());
    std::atomic_thread_fence(std::memory_order_acquire);
    const uint64_t after = live.change_seq.load(std::memory_order_relaxed);
    const uint64_t shards_after = shard_seqs(&odd);
    snap->region = Region(snap->bytes.data(), region_.geo());
    odd = odd || (before & 1) != 0;
    if (before == after && shards_before == shards_after && !odd) return snap;
    if (before == after && shards_before == shards_after && attempt >= settle) {
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
