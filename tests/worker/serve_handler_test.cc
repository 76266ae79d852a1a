// The serve handler: one command kept alive across tasks, a JSON line each
// way per task, and every way its answer can go wrong a failed attempt
// after which the worker carries on.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "handler.h"
#include "slate/internal/process_info.h"

namespace slate::worker {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A long-lived agent that does what each task's "op" says.
constexpr const char* kAgent = R"(import json, os, sys, time
for line in sys.stdin:
    t = json.loads(line)
    op = t.get("op") if isinstance(t, dict) else None
    if op == "crash":
        print("going down", file=sys.stderr, flush=True)
        os._exit(3)
    if op == "hang":
        time.sleep(60)
    if op == "garbage":
        print("this is no JSON", flush=True)
        continue
    if op == "long":
        print(json.dumps({"x": "a" * t["n"]}), flush=True)
        continue
    if op == "fail":
        print(json.dumps({"error": "cannot " + t["what"]}), flush=True)
        continue
    print(json.dumps({"got": t, "pid": os.getpid()}), flush=True)
)";

class ServeHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_ = "/tmp/slate-serve-agent-" + std::to_string(getpid()) + ".py";
    std::ofstream(script_) << kAgent;
  }
  void TearDown() override { unlink(script_.c_str()); }

  std::unique_ptr<Handler> Make(size_t max_output = 512 * 1024) {
    HandlerOptions o;
    o.name = "serve";
    o.exec_command = "python3 " + script_;
    o.max_output_bytes = max_output;
    o.stop_grace_ms = 500;
    auto h = MakeHandler(o);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? std::move(*h) : nullptr;
  }
  static Outcome Run(Handler& h, json payload, uint32_t timeout_ms = 0) {
    TaskInput in;
    in.task_id = 7;
    in.payload = std::move(payload);
    in.timeout_ms = timeout_ms;
    RunControl control;
    return h.Run(in, control);
  }
  // The pid of the command serving now (it answers with it).
  static int PidOf(Handler& h) {
    const Outcome o = Run(h, {{"op", "who"}});
    EXPECT_TRUE(o.ok) << o.error;
    return o.ok ? o.result["pid"].get<int>() : -1;
  }

  std::string script_;
};

TEST_F(ServeHandlerTest, OneCommandServesEveryTask) {
  auto h = Make();
  const int pid = PidOf(*h);
  for (int i = 0; i < 20; ++i) {
    const Outcome o = Run(*h, {{"i", i}});
    ASSERT_TRUE(o.ok) << o.error;
    EXPECT_EQ(o.result["got"]["i"], i);
    EXPECT_EQ(o.result["pid"], pid) << "started once";
  }
  // A string payload travels as a JSON string: one line, whatever it holds.
  const Outcome text = Run(*h, "two\nlines");
  ASSERT_TRUE(text.ok) << text.error;
  EXPECT_EQ(text.result["got"], "two\nlines");
  h.reset();  // the worker stops: the command is ended with it
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(internal::ProcessStartTime(pid), 0u) << "the command outlived its worker";
}

TEST_F(ServeHandlerTest, AnErrorLineOrGarbageFailsTheTaskAndTheCommandCarriesOn) {
  auto h = Make();
  const int pid = PidOf(*h);
  const Outcome failed = Run(*h, {{"op", "fail"}, {"what", "parse the file"}});
  ASSERT_FALSE(failed.ok);
  EXPECT_EQ(failed.error, "cannot parse the file");
  const Outcome garbage = Run(*h, {{"op", "garbage"}});
  ASSERT_FALSE(garbage.ok);
  EXPECT_EQ(garbage.error, "not a JSON line: this is no JSON");
  EXPECT_EQ(PidOf(*h), pid) << "neither cost the command its life";
}

TEST_F(ServeHandlerTest, ACrashFailsTheTaskAndTheNextOneGetsAFreshCommand) {
  auto h = Make();
  const int pid = PidOf(*h);
  const Outcome crashed = Run(*h, {{"op", "crash"}});
  ASSERT_FALSE(crashed.ok);
  EXPECT_EQ(crashed.error.rfind("the command exited with code 3 before it answered", 0), 0u)
      << crashed.error;
  EXPECT_NE(crashed.error.find("stderr: going down"), std::string::npos) << crashed.error;
  const int again = PidOf(*h);
  EXPECT_GT(again, 0);
  EXPECT_NE(again, pid);
}

TEST_F(ServeHandlerTest, AHangIsKilledAtTheTimeoutAndTheCommandStartedAgain) {
  auto h = Make();
  const int pid = PidOf(*h);
  const auto start = std::chrono::steady_clock::now();
  const Outcome hung = Run(*h, {{"op", "hang"}}, 300);
  ASSERT_FALSE(hung.ok);
  EXPECT_EQ(hung.error.rfind("timed out after 300 ms", 0), 0u) << hung.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(internal::ProcessStartTime(pid), 0u) << "the hung command was killed";
  EXPECT_NE(PidOf(*h), pid);
}

TEST_F(ServeHandlerTest, AnAnswerOverTheLimitFailsAndTheCommandIsStartedAgain) {
  auto h = Make(/*max_output=*/4096);
  const int pid = PidOf(*h);
  const Outcome fits = Run(*h, {{"op", "long"}, {"n", 1000}});
  ASSERT_TRUE(fits.ok) << fits.error;
  EXPECT_EQ(fits.result["x"].get<std::string>().size(), 1000u);
  const Outcome over = Run(*h, {{"op", "long"}, {"n", 100000}});
  ASSERT_FALSE(over.ok);
  EXPECT_EQ(over.error.rfind("the answer is longer than 4096 bytes", 0), 0u) << over.error;
  // The rest of that line is not taken for the next task's answer.
  const int again = PidOf(*h);
  EXPECT_NE(again, pid);
  const Outcome next = Run(*h, {{"i", 1}});
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.result["got"]["i"], 1);
}

TEST_F(ServeHandlerTest, ACancelEndsTheTaskAtOnce) {
  auto h = Make();
  const int pid = PidOf(*h);
  TaskInput in;
  in.payload = {{"op", "hang"}};
  RunControl control;
  control.grace_ms = 100;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    control.cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = h->Run(in, control);
  canceller.join();
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.error.rfind("cancelled", 0), 0u) << o.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_NE(PidOf(*h), pid);
}

TEST_F(ServeHandlerTest, ACommandThatCannotRunFailsEachTaskClearly) {
  HandlerOptions o;
  o.name = "serve";
  o.exec_command = "/nonexistent/agent --serve";
  auto h = MakeHandler(o);
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 2; ++i) {
    const Outcome out = Run(**h, {{"i", i}});
    ASSERT_FALSE(out.ok);
    EXPECT_NE(out.error.find("exited with code 127"), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("cannot run the command"), std::string::npos) << out.error;
  }
  o.exec_command = "";
  EXPECT_EQ(MakeHandler(o).status().message(), "handler 'serve' needs a command (--serve CMD)");
}

}  // namespace
}  // namespace slate::worker
