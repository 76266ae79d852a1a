#include "pool_scaling.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "payload.h"
#include "bench_pool.h"
#include "slate/pool.h"

namespace slate::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// One side of the scaling comparison: a pool with `resident` evictable
// 64-byte entries in "notes", and a worker to claim with.
class ScalingSide {
 public:
  static constexpr uint32_t kClaims = 20'000;
  static constexpr uint32_t kQueries = 20'000;

  ScalingSide(const std::string& what, uint64_t resident, uint64_t seed)
      : resident_(resident),
        pool_(what, static_cast<uint32_t>(resident + 2 * kClaims + 4096),
              uint64_t{static_cast<uint32_t>(resident + 2 * kClaims + 4096)} * 128),
        rng_(seed) {
    Pool& pool = pool_.pool();
    note_.segment = "notes";
    note_.tags = {"note"};
    note_.author = "bench";
    note_.payload = Payload64(rng_);
    for (uint64_t i = 0; i < resident; ++i) {
      last_ = Check(pool.Write(note_));
      if (first_ == 0) first_ = last_;
    }
    me_ = Check(pool.RegisterAgent({"bench-w0", {}, 0, AgentRole::kWorker}));
    spec_.entry.author = "bench-producer";
    spec_.entry.payload = note_.payload;
    spec_.assignee = me_;
  }

  // One timed batch of claims and one of cursor queries; appends each
  // batch's cost per operation in microseconds.
  void Measure(std::vector<double>* claims, std::vector<double>* queries) {
    Pool& pool = pool_.pool();
    for (uint32_t i = 0; i < kClaims; ++i) Check(pool.PostTask(spec_));
    std::vector<Claim> got;
    got.reserve(kClaims);
    const auto t0 = Clock::now();
    for (uint32_t i = 0; i < kClaims; ++i) {
      auto c = Check(pool.ClaimNext(me_, milliseconds(60'000)));
      if (!c) throw std::runtime_error("claim found no task");
      got.push_back(std::move(*c));
    }
    claims->push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
                      kClaims);
    // Untimed: finish and erase what this batch made, so the resident
    // count stays where it was set.
    for (const Claim& c : got) {
      const EntryId res =
          Check(pool.Complete(c.task.id, c.task.epoch, {{}, 0.5f, note_.payload}, me_));
      Check(pool.MarkAggregated(res));
      Check(pool.Erase(res));
      Check(pool.Erase(c.task.id));
    }
    Query q;
    q.segments = {"notes"};
    q.limit = 16;
    std::uniform_int_distribution<EntryId> pick(first_, last_ > first_ + 16 ? last_ - 16 : first_);
    const auto t1 = Clock::now();
    uint64_t found = 0;
    for (uint32_t i = 0; i < kQueries; ++i) {
      q.after_id = pick(rng_);
      found += Check(pool.Find(q)).size();
    }
    queries->push_back(std::chrono::duration<double, std::micro>(Clock::now() - t1).count() /
                       kQueries);
    if (found != uint64_t{kQueries} * 16 && resident_ >= 32)
      throw std::runtime_error("cursor query returned short pages");
  }

 private:
  uint64_t resident_;
  ScratchPool pool_;
  std::mt19937_64 rng_;
  NewEntry note_;
  TaskSpec spec_;
  AgentRef me_;
  EntryId first_ = 0, last_ = 0;
};

}  // namespace

ScalingFigures MeasureScaling(uint64_t small, uint64_t large, int repeats, uint64_t seed) {
  ScalingFigures f;
  f.small = small;
  f.large = large;
  ScalingSide s("scale-small", small, seed);
  ScalingSide l("scale-large", large, seed);
  // Batches alternate between the two sides, so drift on a shared machine
  // (the figures move 10-30 % within minutes) hits both alike.
  std::vector<double> claims_s, queries_s, claims_l, queries_l;
  for (int rep = 0; rep < repeats; ++rep) {
    s.Measure(&claims_s, &queries_s);
    l.Measure(&claims_l, &queries_l);
  }
  f.claim_us_small = Median(claims_s);
  f.query_us_small = Median(queries_s);
  f.claim_us_large = Median(claims_l);
  f.query_us_large = Median(queries_l);
  return f;
}

MemoryFigures MeasureMemory(uint64_t seed) {
  constexpr uint32_t kSmall = 16'384, kLarge = 32'768, kEntries = 4096;
  constexpr uint64_t kData = 16ull << 20;
  MemoryFigures m;
  m.payload_bytes = 64;
  uint64_t small_bytes = 0;
  {
    ScratchPool a("mem-a", kSmall, kData);
    small_bytes = Check(a.pool().Stats()).region_bytes;
  }
  ScratchPool b("mem-b", kLarge, kData);
  Pool& pool = b.pool();
  const PoolStats s0 = Check(pool.Stats());
  m.slot_fixed_bytes = static_cast<double>(s0.region_bytes - small_bytes) / (kLarge - kSmall);
  // The cells an entry's data takes, with their share of the cell map
  // (one bit per 16-byte cell).
  auto data_bytes_per_entry = [&](uint64_t before) {
    const uint64_t used = Check(pool.Stats()).data_bytes_used - before;
    return static_cast<double>(used) * (1 + 1.0 / 128) / kEntries;
  };
  std::mt19937_64 rng(seed);
  NewEntry note;
  note.segment = "notes";
  note.tags = {"note"};
  note.author = "bench";
  note.payload = Payload64(rng);
  uint64_t before = Check(pool.Stats()).data_bytes_used;
  for (uint32_t i = 0; i < kEntries; ++i) Check(pool.Write(note));
  m.entry_overhead = m.slot_fixed_bytes + data_bytes_per_entry(before) - 64;

  const AgentRef me = Check(pool.RegisterAgent({"bench-w0", {}, 0, AgentRole::kWorker}));
  TaskSpec spec;
  spec.entry.author = "bench-producer";
  spec.entry.payload = note.payload;
  spec.assignee = me;
  before = Check(pool.Stats()).data_bytes_used;
  for (uint32_t i = 0; i < kEntries; ++i) Check(pool.PostTask(spec));
  m.task_overhead = m.slot_fixed_bytes + data_bytes_per_entry(before) - 64;

  before = Check(pool.Stats()).data_bytes_used;
  for (uint32_t i = 0; i < kEntries; ++i) {
    auto c = Check(pool.ClaimNext(me, milliseconds(60'000)));
    if (!c) throw std::runtime_error("claim found no task");
    Check(pool.Complete(c->task.id, c->task.epoch, {{}, 0.5f, note.payload}, me));
  }
  m.result_overhead = m.slot_fixed_bytes + data_bytes_per_entry(before) - 64;
  return m;
}

}  // namespace slate::bench
