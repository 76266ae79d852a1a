#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "exec_handler.h"
#include "handler.h"
#include "slate/internal/process_info.h"
#include "slate/process_setup.h"

namespace slate::worker {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

Outcome RunWith(const HandlerOptions& o, json payload, uint32_t timeout_ms = 0,
                uint32_t attempt = 1) {
  auto h = MakeHandler(o);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  if (!h.ok()) return Outcome::Failure("no handler");
  TaskInput in;
  in.task_id = 42;
  in.attempt = attempt;
  in.request_id = "r1";
  in.payload = std::move(payload);
  in.timeout_ms = timeout_ms;
  RunControl control;
  return (*h)->Run(in, control);
}

HandlerOptions Named(const std::string& n) {
  HandlerOptions o;
  o.name = n;
  return o;
}

HandlerOptions Exec(const std::string& cmd, bool shell = false) {
  HandlerOptions o;
  o.name = "exec";
  o.exec_command = cmd;
  o.exec_shell = shell;
  return o;
}

TEST(BuiltinHandlersTest, EchoReturnsThePayload) {
  const Outcome sut = RunWith(Named("echo"), {{"a", 1}});
  ASSERT_TRUE(sut.ok);
  EXPECT_EQ(sut.result, (json{{"a", 1}}));
}

TEST(BuiltinHandlersTest, WordCountOfTextAndOfAFile) {
  const Outcome text = RunWith(Named("wordcount"), "The cat, the hat. THE end");
  ASSERT_TRUE(text.ok) << text.error;
  EXPECT_EQ(text.result["words"], 6);
  EXPECT_EQ(text.result["unique"], 4);
  EXPECT_EQ(text.result["top"][0], (json{"the", 3}));
  const std::string path = "/tmp/slate-wc-" + std::to_string(getpid());
  std::ofstream(path) << "one two two";
  const Outcome file = RunWith(Named("wordcount"), {{"path", path}});
  unlink(path.c_str());
  ASSERT_TRUE(file.ok) << file.error;
  EXPECT_EQ(file.result["top"][0], (json{"two", 2}));
  const Outcome missing = RunWith(Named("wordcount"), {{"path", "/nonexistent/x"}});
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("cannot read file"), std::string::npos);
  EXPECT_FALSE(RunWith(Named("wordcount"), 17).ok);
}

TEST(BuiltinHandlersTest, Sha256MatchesAKnownDigest) {
  const Outcome sut = RunWith(Named("sha256"), "abc");
  ASSERT_TRUE(sut.ok);
  EXPECT_EQ(sut.result["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sut.result["bytes"], 3);
}

TEST(BuiltinHandlersTest, SleepSleepsAndFailFailsAsAsked) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(RunWith(Named("sleep"), {{"ms", 30}}).ok);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_FALSE(RunWith(Named("sleep"), "x").ok);
  const Outcome fail = RunWith(Named("fail"), {{"message", "nope"}});
  EXPECT_FALSE(fail.ok);
  EXPECT_EQ(fail.error, "nope");
  EXPECT_FALSE(RunWith(Named("fail"), {{"times", 2}}, 0, 2).ok);
  EXPECT_TRUE(RunWith(Named("fail"), {{"times", 2}}, 0, 3).ok);
}

TEST(BuiltinHandlersTest, UnknownHandlerAndMisplacedExecAreRefused) {
  auto unknown = MakeHandler(Named("frobnicate"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown handler 'frobnicate'"), std::string::npos);
  HandlerOptions o = Named("echo");
  o.exec_command = "cat";
  EXPECT_FALSE(MakeHandler(o).ok());
  EXPECT_FALSE(MakeHandler(Exec("")).ok());
  EXPECT_FALSE(MakeHandler(Exec("echo 'unterminated")).ok());
}

TEST(CommandLineTest, SplitsLikeAShellWithoutExpanding) {
  auto sut = SplitCommandLine(R"(python3 -c 'print("a b")' "x y" z\ w $HOME)");
  ASSERT_TRUE(sut.ok());
  EXPECT_EQ(*sut, (std::vector<std::string>{"python3", "-c", "print(\"a b\")", "x y", "z w",
                                            "$HOME"}));
}

TEST(ExecHandlerTest, StdoutIsTheResultJsonIfItParses) {
  const Outcome json_out = RunWith(Exec("echo '{\"n\": 3}'", true), nullptr);
  ASSERT_TRUE(json_out.ok) << json_out.error;
  EXPECT_EQ(json_out.result, (json{{"n", 3}}));
  const Outcome text_out = RunWith(Exec("echo hello world", true), nullptr);
  ASSERT_TRUE(text_out.ok);
  EXPECT_EQ(text_out.result, "hello world");
}

TEST(ExecHandlerTest, StringPayloadIsRawStdinOtherwiseJson) {
  EXPECT_EQ(RunWith(Exec("cat"), "plain text").result, "plain text");
  EXPECT_EQ(RunWith(Exec("cat"), {{"k", "v"}}).result, (json{{"k", "v"}}));
}

TEST(ExecHandlerTest, EnvironmentNamesTheTask) {
  const Outcome sut = RunWith(Exec("echo $SLATE_TASK_ID/$SLATE_ATTEMPT/$SLATE_REQUEST_ID", true),
                              nullptr, 0, 2);
  ASSERT_TRUE(sut.ok);
  EXPECT_EQ(sut.result, "42/2/r1");
}

// A command sets its result's importance with a JSON line on the
// descriptor SLATE_META_FD names; a command that ignores it sets none.
TEST(ExecHandlerTest, ACommandMaySetItsResultsImportanceOnTheMetaDescriptor) {
  const Outcome set = RunWith(
      Exec("echo '{\"importance\": 0.25}' >&$SLATE_META_FD; echo done", true), nullptr);
  ASSERT_TRUE(set.ok) << set.error;
  EXPECT_EQ(set.result, "done");
  ASSERT_TRUE(set.importance.has_value());
  EXPECT_FLOAT_EQ(*set.importance, 0.25f);
  const Outcome last = RunWith(
      Exec("printf '{\"importance\": 0.5}\\nnot json\\n{\"importance\": 7}\\n"
           "{\"importance\": 0.75}\\n' >&3; echo x",
           true),
      nullptr);
  ASSERT_TRUE(last.ok) << last.error;
  EXPECT_FLOAT_EQ(last.importance.value_or(-1), 0.75f) << "the last valid one; 7 is out of range";
  const Outcome none = RunWith(Exec("echo x", true), nullptr);
  EXPECT_FALSE(none.importance.has_value());
  // Its stdin, stdout and stderr stay what they were.
  EXPECT_EQ(RunWith(Exec("cat"), "in").result, "in");
}

TEST(ExecHandlerTest, NonZeroExitFailsWithCodeAndStderrTail) {
  const Outcome sut = RunWith(Exec("echo bad thing >&2; exit 3", true), nullptr);
  ASSERT_FALSE(sut.ok);
  EXPECT_NE(sut.error.find("exit code 3"), std::string::npos);
  EXPECT_NE(sut.error.find("bad thing"), std::string::npos);
  const Outcome missing = RunWith(Exec("/no/such/program"), nullptr);
  ASSERT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("exit code 127"), std::string::npos);
}

TEST(ExecHandlerTest, TimeoutKillsTheWholeProcessGroup) {
  const std::string marker = "/tmp/slate-grandchild-" + std::to_string(getpid());
  // The command starts a grandchild that records its pid, then both sleep.
  const auto start = std::chrono::steady_clock::now();
  const Outcome sut =
      RunWith(Exec("sleep 30 & echo $! > " + marker + "; sleep 30", true), nullptr, 200);
  ASSERT_FALSE(sut.ok);
  EXPECT_NE(sut.error.find("timed out after 200 ms"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  pid_t grandchild = 0;
  std::ifstream(marker) >> grandchild;
  unlink(marker.c_str());
  ASSERT_GT(grandchild, 0);
  std::this_thread::sleep_for(50ms);
  // Killed; it may linger as a zombie until init reaps it, which is not alive.
  EXPECT_EQ(internal::ProcessStartTime(grandchild), 0u)
      << "grandchild " << grandchild << " survived";
}

// A cancelled command gets SIGTERM and the control's grace to act on it
// (here: write what it had, as a checkpoint would), then SIGKILL.
TEST(ExecHandlerTest, ACancelledCommandHasItsGraceThenIsKilled) {
  auto h = MakeHandler(Exec(
      "trap 'echo saved >&3; exit 1' TERM; while :; do sleep 0.01; done", true));
  ASSERT_TRUE(h.ok());
  for (uint32_t ignore_term : {0u, 1u}) {
    if (ignore_term)
      h = MakeHandler(Exec("trap '' TERM; while :; do sleep 0.01; done", true));
    RunControl control;
    TaskInput in;
    // Timed from before the canceller starts: the cancel comes 100 ms or
    // more after start, and the grace runs from there.
    const auto start = std::chrono::steady_clock::now();
    std::thread canceller([&] {
      std::this_thread::sleep_for(100ms);
      control.grace_ms = 300;
      control.cancel = true;
    });
    const Outcome sut = (*h)->Run(in, control);
    const auto took = std::chrono::steady_clock::now() - start;
    canceller.join();
    ASSERT_FALSE(sut.ok);
    EXPECT_EQ(sut.error.rfind("cancelled", 0), 0u) << sut.error;
    if (ignore_term) {
      EXPECT_GE(took, 400ms) << "SIGKILL came before the grace was over";
    } else {
      EXPECT_LT(took, 400ms) << "a command that exits on SIGTERM was kept waiting";
    }
    EXPECT_LT(took, 3s);
  }
}

// Checkpoints: each {"checkpoint": ...} line on the meta descriptor is
// saved as it arrives (the last one also when the command is SIGTERMed and
// writes it on its way out, without a newline); the next attempt finds the
// last one in $SLATE_RESUME.
TEST(ExecHandlerTest, CheckpointLinesAreSavedAsTheyComeAndResumeIsInTheEnvironment) {
  auto h = MakeHandler(Exec(
      "trap 'printf \"{\\\"checkpoint\\\": {\\\"step\\\": 3}}\" >&3; exit 1' TERM; "
      "echo \"resume=${SLATE_RESUME:-none}\" >&2; "
      "echo '{\"checkpoint\": {\"step\": 1}}' >&3; "
      "echo '{\"checkpoint\": {\"step\": 2}, \"importance\": 0.25}' >&3; "
      "while :; do sleep 0.01; done",
      true));
  ASSERT_TRUE(h.ok());
  std::vector<json> saved;
  RunControl control;
  control.checkpoint = [&](const json& state) {
    saved.push_back(state);
    if (saved.size() == 2) {  // cancelled once two are in
      control.grace_ms = 2000;
      control.cancel = true;
    }
    return Status::Ok();
  };
  TaskInput in;
  const Outcome out = (*h)->Run(in, control);
  ASSERT_FALSE(out.ok);
  EXPECT_NE(out.error.find("resume=none"), std::string::npos) << out.error;
  ASSERT_EQ(saved.size(), 3u);
  EXPECT_EQ(saved[0], (json{{"step", 1}}));
  EXPECT_EQ(saved[2], (json{{"step", 3}})) << "saved during the grace";
  // The next attempt.
  auto again = MakeHandler(Exec("printf '%s' \"$SLATE_RESUME\"", true));
  in.resume = saved.back();
  RunControl next;
  const Outcome resumed = (*again)->Run(in, next);
  ASSERT_TRUE(resumed.ok) << resumed.error;
  EXPECT_EQ(resumed.result, (json{{"step", 3}}));
}

TEST(BuiltinHandlersTest, SleepCheckpointsItsProgressAndResumesFromIt) {
  auto h = MakeHandler(Named("sleep"));
  std::vector<json> saved;
  RunControl control;
  control.checkpoint = [&](const json& state) {
    saved.push_back(state);
    return Status::Ok();
  };
  std::thread canceller([&] {
    std::this_thread::sleep_for(350ms);
    control.cancel = true;
  });
  TaskInput in;
  in.payload = {{"ms", 1000}};
  const Outcome first = (*h)->Run(in, control);
  canceller.join();
  ASSERT_FALSE(first.ok);
  ASSERT_GE(saved.size(), 3u) << "every 100 ms, and on giving up";
  const int64_t at = saved.back()["slept_ms"];
  EXPECT_GE(at, 300);
  EXPECT_LT(at, 1000);
  in.resume = saved.back();
  RunControl next;
  const auto start = std::chrono::steady_clock::now();
  const Outcome rest = (*h)->Run(in, next);
  ASSERT_TRUE(rest.ok) << rest.error;
  EXPECT_EQ(rest.result["slept_ms"], 1000);
  EXPECT_EQ(rest.result["resumed_at_ms"], at);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms) << "slept only the rest";
}

// A worker catches SIGTERM to stop gracefully; its command must not: a
// SIGTERM sent right after the fork (a task preempted as it starts) kills
// the command at once instead of reaching the worker's handler in the child
// before exec, which left the command running until the SIGKILL.
TEST(ExecHandlerTest, ASigtermRightAfterTheForkStopsTheCommand) {
  std::atomic<bool>& stop = InstallStopSignals();
  auto h = MakeHandler(Exec("sleep 30"));
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 5; ++i) {
    RunControl control;
    control.grace_ms = 5000;
    control.cancel = true;  // seen on the first look, just after the fork
    TaskInput in;
    const auto start = std::chrono::steady_clock::now();
    const Outcome out = (*h)->Run(in, control);
    EXPECT_FALSE(out.ok);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s) << "the command outlived its SIGTERM";
  }
  EXPECT_FALSE(stop.load()) << "the worker itself was not asked to stop";
}

// The command shares the worker's memory until it execs: none of the
// worker's handlers or blocked signals may carry over into it.
TEST(ExecHandlerTest, TheCommandStartsWithNoHandlerAndNoBlockedSignal) {
  InstallStopSignals();  // the worker's SIGTERM, SIGINT and SIGHUP handlers
  sigset_t usr1, before;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &before);  // blocked in the worker's thread
  const Outcome out = RunWith(Exec("cat /proc/self/status"), "");  // cat catches nothing
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  ASSERT_TRUE(out.ok) << out.error;
  const std::string text = out.result.get<std::string>();
  EXPECT_NE(text.find("SigBlk:\t0000000000000000"), std::string::npos) << text;
  EXPECT_NE(text.find("SigCgt:\t0000000000000000"), std::string::npos) << text;
  // SIGTERM (bit 15) is not ignored either: it has its default action.
  const auto ign = text.find("SigIgn:\t");
  ASSERT_NE(ign, std::string::npos) << text;
  const uint64_t ignored = std::stoull(text.substr(ign + 8, 16), nullptr, 16);
  EXPECT_EQ(ignored & (1ull << (SIGTERM - 1)), 0u) << text;
  EXPECT_EQ(ignored & (1ull << (SIGPIPE - 1)), 0u) << "the worker ignores SIGPIPE; the command must not";
}

TEST(ExecHandlerTest, OversizedOutputIsAClearFailure) {
  HandlerOptions o = Exec("yes slate");
  o.max_output_bytes = 10000;
  const Outcome sut = RunWith(o, nullptr, 5000);
  ASSERT_FALSE(sut.ok);
  EXPECT_NE(sut.error.find("output exceeds 10000 bytes"), std::string::npos);
}

TEST(ExecHandlerTest, PayloadWithEveryByteValueArrivesIntact) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const Outcome sut = RunWith(Exec("cat"), all + all);
  ASSERT_TRUE(sut.ok) << sut.error;
  EXPECT_EQ(sut.result.get<std::string>(), all + all);
}

TEST(ExecHandlerTest, LargeStdinDoesNotDeadlockAgainstLargeStdout) {
  const std::string big(2 << 20, 'x');  // larger than any pipe buffer
  HandlerOptions o = Exec("cat");
  o.max_output_bytes = 4 << 20;
  const Outcome sut = RunWith(o, big, 10000);
  ASSERT_TRUE(sut.ok) << sut.error;
  EXPECT_EQ(sut.result.get<std::string>().size(), big.size());
}

}  // namespace
}  // namespace slate::worker

namespace slate::worker {
namespace {

// Regression: the worker died of SIGPIPE writing a payload to a command
// that had already exited without reading it.
TEST(ExecHandlerTest, CommandThatNeverReadsStdinDoesNotKillTheWorker) {
  const std::string big(4 << 20, 'p');  // far more than a pipe holds
  for (int i = 0; i < 20; ++i) {
    const Outcome sut = RunWith(Exec("true"), big, 10000);
    ASSERT_TRUE(sut.ok) << sut.error;
    const Outcome failing = RunWith(Exec("false"), big, 10000);
    ASSERT_FALSE(failing.ok);
    EXPECT_NE(failing.error.find("exit code 1"), std::string::npos);
  }
}

}  // namespace
}  // namespace slate::worker
