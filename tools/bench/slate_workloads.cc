#include "slate_workloads.h"

#include <unistd.h>

#include <chrono>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "children.h"
#include "payload.h"
#include "bench_pool.h"
#include "slate/pool.h"

namespace slate::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr milliseconds kLease{30'000};


// A pool for one run: room for `entries` 64-byte entries and the agents.
ScratchPool RunPool(const std::string& what, uint64_t entries) {
  const auto slots = static_cast<uint32_t>(entries + 4096);
  return ScratchPool(what, slots, uint64_t{slots} * 128);
}

// A worker process: claims its tasks in batches and completes each with a
// 64-byte result derived from the task's payload. Exits 0 when stopped.
// With `profile`, its lock profile from ready to stopped is left there.
int WorkerLoop(const std::string& pool_name, const std::string& name, int batch,
               Children& children, internal::LockProfile* profile) {
  std::atomic<bool>& stop = StopFlag();
  auto pool = Check(Pool::Open(pool_name));
  auto me = Check(pool->RegisterAgent({name, {}, 0, AgentRole::kWorker}));
  internal::TakeLockProfile();  // the parent's tallies, and set-up's
  children.Ready();
  std::vector<Claim> claims;
  std::vector<Completion> done;
  std::vector<Result<EntryId>> outcomes;
  while (!stop.load(std::memory_order_relaxed)) {
    Check(pool->WaitClaimBatch(me, kLease, static_cast<size_t>(batch), milliseconds(200),
                               &claims));
    done.resize(claims.size());
    for (size_t i = 0; i < claims.size(); ++i) {
      done[i].id = claims[i].task.id;
      done[i].epoch = claims[i].task.epoch;
      done[i].result.payload.swap(claims[i].entry.payload);
      done[i].result.payload.back() ^= 1;  // the "work": still a valid string
    }
    pool->CompleteBatch(done, me, &outcomes);
    for (const auto& o : outcomes)
      Check(o.status());
  }
  if (profile != nullptr) *profile = internal::TakeLockProfile();
  return 0;
}

// Registers the producer and starts the workers; returns their refs in
// spawn order. With `profiles` (one per worker, shared), each worker leaves
// its lock profile in its own when stopped.
std::vector<AgentRef> StartGroup(ScratchPool& rp, int workers, int batch,
                                 Children& children, AgentRef* producer,
                                 internal::LockProfile* profiles = nullptr) {
  auto me = Check(rp.pool().RegisterAgent({"bench-producer", {}, 0, AgentRole::kSupervisor}));
  *producer = me;
  for (int w = 0; w < workers; ++w) {
    const std::string name = "bench-w" + std::to_string(w);
    internal::LockProfile* mine = profiles == nullptr ? nullptr : profiles + w;
    children.Spawn([&, name, mine] { return WorkerLoop(rp.name(), name, batch, children, mine); });
  }
  if (!children.AwaitReady()) throw std::runtime_error("bench workers failed to start");
  auto agents = Check(rp.pool().ListAgents(milliseconds(60'000)));
  std::vector<AgentRef> refs(static_cast<size_t>(workers));
  for (const auto& a : agents)
    for (int w = 0; w < workers; ++w)
      if (a.name == "bench-w" + std::to_string(w)) refs[static_cast<size_t>(w)] = a.ref;
  return refs;
}

}  // namespace

ThroughputRound SlateThroughput(int workers, uint64_t tasks, const ProtocolOptions& o) {
  ScratchPool rp = RunPool("tp", 2 * tasks);
  static_assert(std::is_trivially_copyable_v<internal::LockProfile>);
  SharedPage shared(sizeof(internal::LockProfile) * static_cast<size_t>(workers));
  auto* worker_profiles = new (shared.data()) internal::LockProfile[static_cast<size_t>(workers)];
  Children children;
  AgentRef producer;
  const std::vector<AgentRef> refs =
      StartGroup(rp, workers, o.batch, children, &producer, o.lock_profile ? worker_profiles : nullptr);
  Pool& pool = rp.pool();
  std::mt19937_64 rng(o.seed);
  std::vector<TaskSpec> specs(static_cast<size_t>(o.post_batch));
  for (auto& s : specs) {
    s.entry.author = "bench-producer";
    s.entry.payload = Payload64(rng);
  }
  std::vector<TaskId> ids;
  ids.reserve(tasks);
  Query results;
  results.segments = {"results"};
  results.limit = 8192;
  // The producer keeps at most `window` tasks in flight, as a supervisor
  // does: it posts while there is room and reads results otherwise, so
  // what it reads is still warm in cache.
  const uint64_t window = std::max<uint64_t>(8 * specs.size(), 4096);
  uint64_t posted = 0, seen = 0;
  std::vector<Entry> found;  // reused: its entries' buffers too
  internal::TakeLockProfile();  // set-up's holds are not the round's
  const auto start = Clock::now();
  const auto give_up = start + std::chrono::seconds(120);
  while (seen < tasks) {
    if (posted < tasks && posted - seen + specs.size() <= window) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(specs.size(), tasks - posted));
      // By block: the batch's i-th task goes to the worker whose share of
      // the batch holds i, the shares turning with each batch.
      const uint64_t turn = posted / specs.size();
      for (size_t i = 0; i < n; ++i)
        specs[i].assignee = o.blocks ? refs[(i * refs.size() / n + turn) % refs.size()]
                                     : refs[(posted + i) % refs.size()];
      Check(pool.PostTasks(std::span<const TaskSpec>(specs.data(), n), &ids));
      posted += n;
      continue;
    }
    Check(pool.WaitInto(results, milliseconds(1000), &found));
    for (const Entry& e : found) {
      if (e.task_id == 0 || e.payload.size() != kPayloadBytes)
        throw std::runtime_error("a result without its task or payload");
      ++seen;
      results.after_id = e.id;
    }
    if (Clock::now() > give_up) throw std::runtime_error("results stopped arriving");
  }
  ThroughputRound round;
  round.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  round.tasks_per_s = static_cast<double>(tasks) / round.seconds;
  if (o.lock_profile) round.lock = internal::TakeLockProfile();
  if (!children.StopAll()) throw std::runtime_error("a bench worker failed");
  if (o.lock_profile)
    for (int w = 0; w < workers; ++w) round.lock.Add(worker_profiles[w]);
  return round;
}

std::vector<double> SlateLatency(double seconds, uint64_t max_samples,
                                 const ProtocolOptions& o) {
  constexpr uint64_t kWarmUp = 1000;
  ScratchPool rp = RunPool("lat", 2 * (max_samples + kWarmUp));
  Children children;
  AgentRef producer;
  const std::vector<AgentRef> refs = StartGroup(rp, 1, 1, children, &producer);
  Pool& pool = rp.pool();
  std::mt19937_64 rng(o.seed);
  TaskSpec spec;
  spec.entry.author = "bench-producer";
  spec.entry.payload = Payload64(rng);
  spec.assignee = refs[0];
  Query results;
  results.segments = {"results"};
  results.limit = 1;
  std::vector<double> us;
  us.reserve(max_samples);
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  // However slow the machine (a sanitizer build, a loaded host), the
  // figures rest on kMinSamples round trips past the warm-up.
  for (uint64_t i = 0;
       us.size() < max_samples && (Clock::now() < end || us.size() < kMinLatencySamples); ++i) {
    const auto t0 = Clock::now();
    const TaskId id = Check(pool.PostTask(spec));
    for (;;) {
      const auto found = Check(pool.Wait(results, milliseconds(1000)));
      if (found.empty()) throw std::runtime_error("no result within 1 s");
      results.after_id = found.front().id;
      if (found.front().task_id == id) break;
    }
    if (i >= kWarmUp)
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  if (!children.StopAll()) throw std::runtime_error("the bench worker failed");
  return us;
}

}  // namespace slate::bench
