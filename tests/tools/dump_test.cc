// slate-dump as a user runs it: exact output, filters, --check on a damaged
// pool, and a pool whose whole group was killed.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/group_fixture.h"
#include "slate/dump.h"
#include "slate/json_payload.h"
#include "slate/internal/layout.h"
#include "slate/internal/region.h"
#include "slate/internal/shm_mapping.h"

namespace slate::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class DumpTest : public GroupTest {
 protected:
  void SetUp() override {
    GroupTest::SetUp();
    created_ = std::move(Pool::Create({.name = pool}).value());
    a_ = Put("notes", {"red", "big"}, 0.75f, "ann", json{{"k", "v"}});
    b_ = Put("notes", {"red"}, 0.25f, "bob", json("hello"));
    c_ = Put("logs", {"big"}, 0.5f, "ann", json(42));
  }
  void TearDown() override {
    created_.reset();
    (void)Pool::Remove(pool);
    GroupTest::TearDown();
  }
  EntryId Put(const std::string& seg, std::vector<std::string> tags, float imp,
              const std::string& author, const json& payload) {
    NewEntry e = MakeEntry(seg, std::move(tags), imp, author);
    e.payload = JsonToPayload(payload);
    return created_->Write(e).value();
  }
  CommandResult Dump(std::vector<std::string> args) {
    args.insert(args.begin(), {"slate-dump", "--pool", pool});
    return RunCommand(args);
  }
  std::vector<EntryId> Ids(std::vector<std::string> args) {
    args.insert(args.end(), {"--format", "jsonl"});
    const auto r = Dump(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<EntryId> ids;
    for (const auto& l : Lines(r.out)) ids.push_back(json::parse(l)["id"]);
    return ids;
  }
  std::unique_ptr<Pool> created_;
  EntryId a_ = 0, b_ = 0, c_ = 0;
};

TEST(FormatTimeTest, IsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTime(1795278435491188354), "2026-11-21T16:27:15.491Z");
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
}

TEST_F(DumpTest, TableIsExact) {
  const auto r = Dump({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "ID       SEGMENT       IMP LIVE AUTHOR         CREATED                  TAGS        "
            "             PAYLOAD");
  const std::string t = FormatTime(created_->Read(a_)->created_ns);
  EXPECT_EQ(lines[1], std::to_string(a_) + "        notes        0.75   no ann            " + t +
                          " red,big                  {\"k\":\"v\"}");
  EXPECT_NE(lines[2].find("0.25   no bob"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("\"hello\""), std::string::npos);
  EXPECT_NE(lines[3].find("logs"), std::string::npos);
}

TEST_F(DumpTest, JsonLinesAreExactWithDecodedPayloads) {
  const auto r = Dump({"--format", "jsonl", "--segment", "notes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  const Entry a = created_->Read(a_).value();
  const json expected = {{"id", a_},
                         {"segment", "notes"},
                         {"tags", {"red", "big"}},
                         {"importance", 0.75},
                         {"author", "ann"},
                         {"created", FormatTime(a.created_ns)},
                         {"updated", FormatTime(a.updated_ns)},
                         {"live", false},
                         {"payload", {{"k", "v"}}}};
  EXPECT_EQ(json::parse(lines[0]), expected);
  EXPECT_EQ(json::parse(lines[1])["payload"], "hello");
}

TEST_F(DumpTest, EveryFilter) {
  EXPECT_EQ(Ids({}), (std::vector<EntryId>{a_, b_, c_}));
  EXPECT_EQ(Ids({"--segment", "logs"}), std::vector<EntryId>{c_});
  EXPECT_EQ(Ids({"-s", "logs", "-s", "notes"}), (std::vector<EntryId>{a_, b_, c_}));
  EXPECT_EQ(Ids({"--tag", "red", "--tag", "big"}), std::vector<EntryId>{a_});
  EXPECT_EQ(Ids({"--any-tag", "big", "--any-tag", "nothing"}), (std::vector<EntryId>{a_, c_}));
  EXPECT_EQ(Ids({"--min-importance", "0.5"}), (std::vector<EntryId>{a_, c_}));
  EXPECT_EQ(Ids({"--author", "ann"}), (std::vector<EntryId>{a_, c_}));
  EXPECT_EQ(Ids({"--since", std::to_string(a_)}), (std::vector<EntryId>{b_, c_}));
  EXPECT_EQ(Ids({"--limit", "1"}), std::vector<EntryId>{a_});
  EXPECT_EQ(Ids({"--order", "importance"}), (std::vector<EntryId>{a_, c_, b_}));
}

// A list the limit cut says so on stderr, with the count of every match.
TEST_F(DumpTest, ACutListSaysHowManyMatched) {
  const auto cut = RunCommand({"slate-dump", "--pool", pool, "-n", "2"});
  EXPECT_EQ(cut.exit_code, 0);
  EXPECT_EQ(cut.err, "slate-dump: showing 2 of 3 entries; -n 0 for all\n");
  EXPECT_EQ(RunCommand({"slate-dump", "--pool", pool, "-n", "3"}).err, "");
  EXPECT_EQ(RunCommand({"slate-dump", "--pool", pool, "-n", "0"}).err, "");
  EXPECT_EQ(RunCommand({"slate-dump", "--pool", pool, "-n", "1", "--tag", "red"}).err,
            "slate-dump: showing 1 of 2 entries; -n 0 for all\n");
}

TEST_F(DumpTest, StatsNameSegmentsTasksAndAgents) {
  (void)created_->RegisterAgent({"w1", {"cpu"}, 0});
  const auto r = Dump({"--stats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pool '" + pool + "': 4 of 65536 entries"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("notes              2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("w1               worker"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AUTHORS kept once: 2 of 128"), std::string::npos) << r.out;  // ann, bob
  const auto j = Dump({"--stats", "--format", "jsonl"});
  EXPECT_EQ(json::parse(j.out)["entries"], 4);
  EXPECT_EQ(json::parse(j.out)["authors_kept"], 2);
}

TEST_F(DumpTest, CheckPassesThenReportsDamageWithoutCrashing) {
  auto clean = Dump({"--check"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_NE(clean.out.find("check passed (3 entries)"), std::string::npos);
  {
    auto map = internal::ShmMapping::Open(pool, false).value();
    const internal::Region r(map->data(), reinterpret_cast<internal::Header*>(map->data())->geo);
    r.header().derived.tasks[1] += 5;
    r.segment(0).count += 2;
    for (uint32_t i = 0; i < 8; ++i) r.slot(i).first_cell = 0x7FFFFFF0;  // data nowhere
  }
  const auto damaged = Dump({"--check"});
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.out.find("violation: "), std::string::npos) << damaged.out;
  EXPECT_NE(damaged.out.find("violation(s)"), std::string::npos);
  const auto listing = Dump({});  // damaged entries are skipped, not followed
  EXPECT_EQ(listing.exit_code, 0) << listing.err;
}

TEST_F(DumpTest, UsageAndMissingPoolAreClearErrors) {
  EXPECT_EQ(Dump({"--format", "xml"}).exit_code, 2);
  EXPECT_EQ(Dump({"--stats", "--check"}).exit_code, 2);
  EXPECT_EQ(Dump({"--min-importance", "7"}).exit_code, 2);
  const auto missing = RunCommand({"slate-dump", "--pool", pool + "-nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no such pool"), std::string::npos);
}

TEST_F(DumpTest, FollowPrintsNewEntriesUntilThePoolIsRemoved) {
  const std::string out_file = WriteTempFile("follow.out", "");
  const pid_t follower = StartCommandToFile(
      {"slate-dump", "--pool", pool, "--follow", "--format", "jsonl", "--segment", "live"},
      out_file);
  std::this_thread::sleep_for(300ms);
  const EntryId fresh = Put("live", {}, 0.5f, "x", json("new"));
  std::this_thread::sleep_for(500ms);
  created_.reset();
  ASSERT_TRUE(Pool::Remove(pool).ok());
  EXPECT_EQ(WaitCommand(follower, 5000), 0);
  std::ifstream in(out_file);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(json::parse(line)["id"], fresh);
}

// Every member of a group SIGKILLed at once, mid-run: the pool they leave is
// inspected without a live process (the lock may be held by a dead one).
TEST_F(GroupTest, PoolLeftByAKilledGroupCanBeInspected) {
  std::vector<json> tasks(20, {{"payload", {{"ms", 300}}}});
  const pid_t launcher = StartCommand({"slate-launch", "run", "--pool", pool, "--workers", "3",
                                       "--handler", "sleep", "--keep", Jsonl("k.jsonl", tasks)});
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (ProcessesMentioning(pool).size() < 6 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  // Mid-run: every task posted (however slowly a loaded machine starts
  // the supervisor), most still to run.
  auto posted = [&] {
    auto p = Pool::Open(pool, OpenMode::kReadOnly);
    if (!p.ok()) return false;
    auto st = (*p)->Stats();
    uint64_t n = 0;
    if (st.ok())
      for (uint64_t c : st->tasks_by_state) n += c;
    return n == 20;
  };
  while (!posted() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(100ms);
  for (pid_t p : ProcessesMentioning(pool))
    if (p != launcher) kill(p, SIGKILL);
  kill(launcher, SIGKILL);
  WaitCommand(launcher, 5000);
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(ProcessesMentioning(pool).empty());
  ASSERT_TRUE(PoolExists(pool));
  const auto stats = RunCommand({"slate-dump", "--pool", pool, "--stats"});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("TASKS"), std::string::npos);
  EXPECT_NE(stats.out.find("gone"), std::string::npos) << "dead agents show as gone";
  const auto check = RunCommand({"slate-dump", "--pool", pool, "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  const auto list = RunCommand({"slate-dump", "--pool", pool, "--segment", "tasks", "-n", "0"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(Lines(list.out).size(), 21u);  // header and the 20 tasks
  ASSERT_TRUE(Pool::Remove(pool).ok());
}

}  // namespace
}  // namespace slate::testing
