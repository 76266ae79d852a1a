// Built-in handlers: echo, wordcount, sha256, sleep, fail.
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "exec_handler.h"
#include "serve_handler.h"
#include "handler.h"

namespace slate::worker {
namespace {

using nlohmann::json;

// A payload is text, or {"path": "..."} naming a file to read.
Result<std::string> TextOf(const json& payload) {
  if (payload.is_string()) return payload.get<std::string>();
  if (payload.is_object() && payload.contains("path") && payload["path"].is_string()) {
    const std::string path = payload["path"];
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status{StatusCode::kNotFound, "cannot read file '" + path + "'"};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  return Status{StatusCode::kInvalidArgument,
                "payload must be a string or an object with a string \"path\""};
}

class Echo : public Handler {
 public:
  Outcome Run(const TaskInput& in, RunControl&) override {
    return Outcome::Success(in.payload);
  }
};

// Words are runs of letters, digits and apostrophes, lower-cased.
class WordCount : public Handler {
 public:
  Outcome Run(const TaskInput& in, RunControl&) override {
    auto text = TextOf(in.payload);
    if (!text.ok()) return Outcome::Failure(text.status().message());
    std::map<std::string, uint64_t> freq;
    uint64_t total = 0;
    std::string word;
    auto flush = [&] {
      if (word.empty()) return;
      ++freq[word];
      ++total;
      word.clear();
    };
    for (unsigned char c : *text) {
      if (std::isalnum(c) || c == '\'') word.push_back(static_cast<char>(std::tolower(c)));
      else flush();
    }
    flush();
    std::vector<std::pair<std::string, uint64_t>> top(freq.begin(), freq.end());
    std::stable_sort(top.begin(), top.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (top.size() > 10) top.resize(10);
    json top_json = json::array();
    for (const auto& [w, n] : top) top_json.push_back({w, n});
    return Outcome::Success({{"words", total}, {"unique", freq.size()}, {"top", top_json}});
  }
};

class Sha256 : public Handler {
 public:
  Outcome Run(const TaskInput& in, RunControl&) override {
    auto text = TextOf(in.payload);
    if (!text.ok()) return Outcome::Failure(text.status().message());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(text->data(), text->size(), digest, &len, EVP_sha256(), nullptr) != 1)
      return Outcome::Failure("sha256 failed");
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
      hex.push_back(kHex[digest[i] >> 4]);
      hex.push_back(kHex[digest[i] & 15]);
    }
    return Outcome::Success({{"sha256", hex}, {"bytes", text->size()}});
  }
};

// Payload: milliseconds, or {"ms": n}. Gives up early when cancelled. Its
// progress is checkpointed every 100 ms and when it gives up, so an
// attempt after a preemption, a retry or its worker's death sleeps only
// the rest: the result then says where it resumed ("resumed_at_ms").
class Sleep : public Handler {
 public:
  Outcome Run(const TaskInput& in, RunControl& control) override {
    const json& p = in.payload;
    const json ms_json = p.is_object() && p.contains("ms") ? p["ms"] : p;
    if (!ms_json.is_number_unsigned() && !ms_json.is_number_integer())
      return Outcome::Failure("sleep payload must be milliseconds or {\"ms\": n}");
    const int64_t ms = ms_json.get<int64_t>();
    if (ms < 0) return Outcome::Failure("sleep milliseconds must not be negative");
    int64_t resumed_at = 0;
    if (in.resume.is_object() && in.resume.value("slept_ms", json()).is_number_integer())
      resumed_at = std::clamp<int64_t>(in.resume["slept_ms"].get<int64_t>(), 0, ms);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now() - std::chrono::milliseconds(resumed_at);
    const auto end = start + std::chrono::milliseconds(ms);
    auto slept = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    };
    auto next_save = Clock::now() + kCheckpointEvery;
    while (Clock::now() < end) {
      if (control.cancel.load()) {
        (void)control.SaveCheckpoint({{"slept_ms", std::min<int64_t>(slept(), ms)}});
        return Outcome::Failure("cancelled");
      }
      if (Clock::now() >= next_save) {
        (void)control.SaveCheckpoint({{"slept_ms", slept()}});
        next_save += kCheckpointEvery;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(ms, 5)));
    }
    json out = {{"slept_ms", ms}};
    if (resumed_at > 0) out["resumed_at_ms"] = resumed_at;
    return Outcome::Success(std::move(out));
  }

 private:
  static constexpr auto kCheckpointEvery = std::chrono::milliseconds(100);
};

// Fails with the payload's "message" (or a fixed text). With {"times": k}
// it fails only the first k attempts, then echoes the payload.
class Fail : public Handler {
 public:
  Outcome Run(const TaskInput& in, RunControl&) override {
    const json& p = in.payload;
    std::string message = "fail handler: failing as asked";
    if (p.is_object() && p.contains("message") && p["message"].is_string())
      message = p["message"];
    if (p.is_object() && p.contains("times") && p["times"].is_number_integer() &&
        in.attempt > p["times"].get<int64_t>())
      return Outcome::Success(p);
    return Outcome::Failure(message);
  }
};

}  // namespace

const char* HandlerNames() { return "echo, wordcount, sha256, sleep, fail, exec, serve"; }

Result<std::unique_ptr<Handler>> MakeHandler(const HandlerOptions& o) {
  if (o.name == "serve") {
    if (o.exec_command.empty())
      return Status{StatusCode::kInvalidArgument, "handler 'serve' needs a command (--serve CMD)"};
    return MakeServeHandler(o);
  }
  if (o.name == "exec") {
    if (o.exec_command.empty())
      return Status{StatusCode::kInvalidArgument, "handler 'exec' needs a command (--exec CMD)"};
    return MakeExecHandler(o);
  }
  if (!o.exec_command.empty())
    return Status{StatusCode::kInvalidArgument,
                  "--exec is given, but the handler is '" + o.name + "', not 'exec'"};
  if (o.name == "echo") return std::unique_ptr<Handler>(new Echo());
  if (o.name == "wordcount") return std::unique_ptr<Handler>(new WordCount());
  if (o.name == "sha256") return std::unique_ptr<Handler>(new Sha256());
  if (o.name == "sleep") return std::unique_ptr<Handler>(new Sleep());
  if (o.name == "fail") return std::unique_ptr<Handler>(new Fail());
  return Status{StatusCode::kInvalidArgument,
                "unknown handler '" + o.name + "' (known: " + HandlerNames() + ")"};
}

}  // namespace slate::worker
