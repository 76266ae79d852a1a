// Pool micro-benchmark (one process, no contention): the cost of write,
// the post+claim+complete cycle, and queries, with 1k and 1M entries
// resident. Each iteration times a batch of operations; clean-up between
// batches is untimed, so the resident count stays where it was set.
//
//   build/bench/pool_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <msgpack.hpp>
#include <string>

#include "slate/internal/crash_point.h"
#include "slate/pool.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr int kBatch = 1000;

std::vector<uint8_t> Payload64() {
  msgpack::sbuffer b;
  msgpack::pack(b, std::string(61, 'p'));  // 64 bytes of msgpack
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return {p, p + b.size()};
}

// A pool holding `resident` evictable 64-byte entries in segment "notes".
struct BenchPool {
  explicit BenchPool(int64_t resident) {
    slate::PoolOptions o;
    o.name = "bench-" + std::to_string(getpid());
    o.slot_capacity = static_cast<uint32_t>(resident + 4 * kBatch + 1024);
    o.data_bytes = (static_cast<uint64_t>(o.slot_capacity) * 192);
    (void)slate::Pool::Remove(o.name);
    pool = std::move(slate::Pool::Create(o).value());
    slate::NewEntry e;
    e.segment = "notes";
    e.tags = {"note"};
    e.author = "bench";
    e.payload = Payload64();
    for (int64_t i = 0; i < resident; ++i) (void)pool->Write(e);
    agent = pool->RegisterAgent({"bench-worker", {}, 0}).value();
  }
  ~BenchPool() {
    const std::string name = pool->name();
    pool.reset();
    (void)slate::Pool::Remove(name);
  }
  std::unique_ptr<slate::Pool> pool;
  slate::AgentRef agent;
};

void Report(benchmark::State& state, double seconds) {
  state.SetIterationTime(seconds);
}

void BM_Write(benchmark::State& state) {
  BenchPool b(state.range(0));
  slate::NewEntry e;
  e.segment = "log";
  e.tags = {"w"};
  e.author = "bench";
  e.payload = Payload64();
  std::vector<slate::EntryId> ids(kBatch);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (int i = 0; i < kBatch; ++i) ids[i] = b.pool->Write(e).value();
    Report(state, std::chrono::duration<double>(Clock::now() - t0).count());
    for (auto id : ids) (void)b.pool->Erase(id);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_PostClaimComplete(benchmark::State& state) {
  BenchPool b(state.range(0));
  slate::TaskSpec spec;
  spec.entry.author = "bench";
  spec.entry.payload = Payload64();
  spec.assignee = b.agent;
  slate::TaskResult result;
  result.payload = Payload64();
  std::vector<std::pair<slate::TaskId, slate::EntryId>> done(kBatch);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (int i = 0; i < kBatch; ++i) {
      const slate::TaskId id = b.pool->PostTask(spec).value();
      auto claim = b.pool->ClaimNext(b.agent, 30s).value();
      done[i] = {id, b.pool->Complete(id, claim->task.epoch, result).value()};
    }
    Report(state, std::chrono::duration<double>(Clock::now() - t0).count());
    for (auto [task, res] : done) {
      (void)b.pool->MarkAggregated(res);
      (void)b.pool->Erase(res);
      (void)b.pool->Erase(task);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// The waiter's query: what is new in a segment since my cursor.
void BM_QueryCursor(benchmark::State& state) {
  BenchPool b(state.range(0));
  slate::Query q;
  q.segments = {"notes"};
  q.limit = 16;
  slate::NewEntry e;
  e.segment = "notes";
  e.author = "bench";
  e.payload = Payload64();
  for (int i = 0; i < 16; ++i) (void)b.pool->Write(e);
  q.after_id = b.pool->Stats()->next_id - 17;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(b.pool->Find(q).value());
    Report(state, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// A tag query in a small segment while another segment holds the bulk.
void BM_QueryTagSmallSegment(benchmark::State& state) {
  BenchPool b(state.range(0));
  slate::NewEntry e;
  e.segment = "progress";
  e.author = "bench";
  e.payload = Payload64();
  for (int i = 0; i < 100; ++i) {
    e.tags = {i % 10 == 0 ? "hit" : "miss"};
    (void)b.pool->Write(e);
  }
  slate::Query q;
  q.segments = {"progress"};
  q.all_tags = {"hit"};
  q.limit = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(b.pool->Find(q).value());
    Report(state, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// A child dies holding the lock mid-write; time the parent's next operation,
// which rolls back and rebuilds every index over the resident entries.
void BM_RecoverAfterDeath(benchmark::State& state) {
  BenchPool b(state.range(0));
  for (auto _ : state) {
    const pid_t child = fork();
    if (child == 0) {
      auto p = slate::Pool::Open(b.pool->name()).value();
      slate::internal::TEST_ArmCrashPoint("write.before_commit");
      slate::NewEntry e;
      e.segment = "log";
      (void)p->Write(e);
      _exit(3);
    }
    waitpid(child, nullptr, 0);
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(b.pool->Stats().value());
    Report(state, std::chrono::duration<double>(Clock::now() - t0).count());
  }
}

BENCHMARK(BM_RecoverAfterDeath)->Arg(1000)->Arg(1000000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Write)->Arg(1000)->Arg(1000000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PostClaimComplete)->Arg(1000)->Arg(1000000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QueryCursor)->Arg(1000)->Arg(1000000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QueryTagSmallSegment)->Arg(1000)->Arg(1000000)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
