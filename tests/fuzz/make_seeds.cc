// Writes the region fuzzer's seed images: real pools, small enough for the
// fuzzer to mutate, holding entries of every kind (tasks in each state,
// results, errors, kept entries, agents), one of them caught mid-transaction.
// Usage: fuzz-make-seeds DIR
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "slate/internal/pool_impl.h"
#include "slate/json_payload.h"
#include "slate/pool.h"

namespace {

using namespace std::chrono_literals;

// The seed pool in the making, removed by Die so a failed run leaves
// nothing in /dev/shm.
std::string g_pool;

void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz-make-seeds: %s\n", what.c_str());
  if (!g_pool.empty()) (void)slate::Pool::Remove(g_pool);
  std::exit(1);
}

template <typename T>
T Must(slate::Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().message());
  return std::move(r).value();
}

void MustOk(const slate::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.message());
}

std::vector<uint8_t> RegionBytes(const std::string& pool) {
  const std::string shm = "/" + slate::ShmNameFor(pool);
  const int fd = shm_open(shm.c_str(), O_RDONLY, 0);
  if (fd < 0) Die("cannot open " + shm);
  struct stat st {};
  fstat(fd, &st);
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  if (pread(fd, bytes.data(), bytes.size(), 0) != st.st_size) Die("short read");
  close(fd);
  return bytes;
}

void Save(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) Die("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) Die("usage: fuzz-make-seeds DIR");
  const std::string dir = argv[1];
  const std::string name = "fuzz-seed-" + std::to_string(getpid());
  g_pool = name;
  slate::PoolOptions o;
  o.name = name;
  o.slot_capacity = 16;
  o.data_bytes = 4096;
  o.agent_capacity = 2;
  o.max_payload = 512;
  auto pool = Must(slate::Pool::Create(o), "create");
  Save(dir + "/empty.pool", RegionBytes(name));

  auto sup = Must(pool->RegisterAgent({"sup", {}, 0, slate::AgentRole::kSupervisor}), "register");
  auto wrk = Must(pool->RegisterAgent({"w1", {"gpu"}, 0, slate::AgentRole::kWorker, "team-a"}),
                  "register");
  Must(pool->AcquireLeadership(sup, 3600s), "lead");
  for (int i = 0; i < 4; ++i) {
    slate::TaskSpec t;
    t.entry.author = "sup";
    t.entry.payload = slate::JsonToPayload({{"n", i}, {"text", "task"}});
    t.entry.tags = {"req:1", "i:" + std::to_string(i)};
    t.assignee = i % 2 == 0 ? wrk : slate::kSharedQueue;
    t.priority = i - 2;
    t.requires_cap = i == 3 ? "gpu" : "";
    (void)Must(pool->PostTask(t), "post");
  }
  auto claim = Must(pool->ClaimNext(wrk, 5s), "claim");
  if (claim) {
    slate::TaskResult res;
    res.payload = slate::JsonToPayload({{"ok", true}});
    (void)Must(pool->Complete(claim->task.id, claim->task.epoch, res, wrk), "complete");
  }
  // Left running, with a checkpoint.
  if (auto running = Must(pool->ClaimNext(wrk, 5s), "claim"))
    (void)Must(pool->SaveCheckpoint(running->task.id, running->task.epoch,
                                    slate::JsonToPayload({{"step", 3}}), wrk),
               "checkpoint");
  // A plan's states: one task waiting on its dependencies, one cancelled,
  // one held.
  slate::TaskSpec waiting;
  waiting.entry.author = "sup";
  waiting.entry.tags = {"req:1", "i:4", "plan"};
  waiting.entry.payload = slate::JsonToPayload({{"slate_plan", 1}, {"after", {0}}});
  waiting.waiting = true;
  (void)Must(pool->PostTask(waiting), "post waiting");
  waiting.waiting = false;
  waiting.entry.tags = {"req:1", "i:5"};
  const auto cancelled = Must(pool->PostTask(waiting), "post");
  (void)Must(pool->EndTask(cancelled, slate::TaskState::kCancelled, "by an operator"), "cancel");
  // One held for a person: out of retries, with its hold record.
  waiting.entry.tags = {"req:1", "i:6"};
  waiting.assignee = wrk;
  waiting.max_retries = 0;
  const auto held = Must(pool->PostTask(waiting), "post");
  if (auto c = Must(pool->ClaimNext(wrk, 5s), "claim"); c && c->task.id == held) {
    MustOk(pool->Fail(held, c->task.epoch, "boom", wrk), "fail");
    (void)Must(pool->Hold(held, "out of retries"), "hold");
  }
  (void)sup;
  slate::NewEntry keep;
  keep.segment = "notes";
  keep.author = "sup";
  keep.tags = {"a", "b"};
  keep.importance = 0.75f;
  keep.keep = true;
  keep.payload = slate::JsonToPayload(nlohmann::json::array({1, 2.5, "three", nullptr}));
  (void)Must(pool->Write(keep), "write");
  Save(dir + "/busy.pool", RegionBytes(name));

  // The same pool as a reader finds it when a writer died mid-transaction:
  // change_seq odd, one journal record naming a slot.
  auto torn = RegionBytes(name);
  auto* h = reinterpret_cast<slate::internal::Header*>(torn.data());
  h->change_seq.store(h->change_seq.load() | 1);
  h->journal.rec[0].offset = h->geo.off_slots;
  h->journal.rec[0].length = 128;
  h->journal.count.store(1);
  Save(dir + "/torn.pool", torn);

  // A torn pool whose journal record's offset + length wraps past 2^64: a
  // fuzz finding, once read past the region (UndoJournal checks it now).
  auto wrapping = torn;
  auto* hw = reinterpret_cast<slate::internal::Header*>(wrapping.data());
  hw->journal.rec[0].offset = ~uint64_t{0} - 63;
  Save(dir + "/wrapping-journal-offset.pool", wrapping);

  // A busy pool whose first agent wrote the oldest heartbeat there is: a
  // fuzz finding, once an overflow in its age (ListAgents saturates now).
  auto ancient = RegionBytes(name);
  const auto* ha = reinterpret_cast<const slate::internal::Header*>(ancient.data());
  auto* row = reinterpret_cast<slate::internal::AgentRow*>(ancient.data() + ha->geo.off_agents);  // row 1
  row->heartbeat_mono.store(INT64_MIN);
  Save(dir + "/ancient-heartbeat.pool", ancient);

  pool.reset();
  MustOk(slate::Pool::Remove(name), "remove");

  // A pool of notes whose free space is in holes, and an entry chained
  // across them (cell_store.h).
  o.data_bytes = 2048;
  pool = Must(slate::Pool::Create(o), "create");
  std::vector<slate::EntryId> notes;
  slate::NewEntry note = keep;
  note.keep = false;
  note.payload = slate::JsonToPayload(std::string(200, 'n'));
  for (;;) {
    const auto st = Must(pool->Stats(), "stats");
    if (st.entries + 2 >= o.slot_capacity || st.data_bytes_total - st.data_bytes_used < 200) break;
    notes.push_back(Must(pool->Write(note), "write"));
  }
  for (size_t i = 0; i < notes.size(); i += 2) MustOk(pool->Erase(notes[i]), "erase");
  note.payload = slate::JsonToPayload(std::string(300, 'c'));
  const slate::EntryId chained = Must(pool->Write(note), "write");
  auto fragmented = RegionBytes(name);
  const auto* hf = reinterpret_cast<const slate::internal::Header*>(fragmented.data());
  const auto* slots = reinterpret_cast<const slate::internal::Slot*>(fragmented.data() + hf->geo.off_slots);
  bool found = false;
  for (uint32_t i = 0; i < o.slot_capacity; ++i)
    found = found || (slots[i].id == chained && (slots[i].flags & slate::internal::kChained));
  if (!found) Die("the fragmented seed's last write was not chained");
  Save(dir + "/fragmented.pool", fragmented);
  pool.reset();
  MustOk(slate::Pool::Remove(name), "remove");
  return 0;
}
