// libFuzzer target: the request reader over arbitrary bytes, in both line
// splits. Properties: never crashes, never throws, and every task it accepts
// has a payload that survives the trip to msgpack and back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "request/request_reader.h"
#include "slate/json_payload.h"

using slate::supervisor::SplitMode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (SplitMode mode : {SplitMode::kJsonLines, SplitMode::kLines}) {
    std::istringstream in(bytes);
    auto tasks = slate::supervisor::ReadRequestStream("fuzz", in, mode);
    if (!tasks.ok()) {
      if (tasks.status().message().empty()) std::abort();  // errors say why
      continue;
    }
    for (const auto& t : *tasks) {
      const auto packed = slate::JsonToPayload(t.payload);
      auto back = slate::PayloadToJson(packed);
      if (!back.ok() || slate::JsonToPayload(*back) != packed) std::abort();
    }
  }
  return 0;
}
