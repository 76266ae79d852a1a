// libFuzzer target: payload bytes as a peer may write them. Properties:
//  - PayloadToJson never crashes or throws; what it accepts re-encodes to
//    bytes that decode to the same JSON (compared as msgpack, so NaN holds);
//  - the pool's validator (MsgpackObjectBytes) agrees with msgpack-c on where
//    the first object ends, and never reads past the buffer;
//  - an entry carrying the bytes renders as a table row and as JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include <msgpack.hpp>

#include "slate/dump.h"
#include "slate/internal/entry_codec.h"
#include "slate/json_payload.h"

namespace {

// Where msgpack-c's parser says the first object ends; 0 if it is not whole
// or not valid. The null visitor builds nothing, so lying counts cost nothing.
size_t MsgpackCObjectBytes(const uint8_t* data, size_t size) {
  msgpack::null_visitor v;
  size_t off = 0;
  try {
    return msgpack::parse(reinterpret_cast<const char*>(data), size, off, v) ? off : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  auto json = slate::PayloadToJson(bytes);
  if (json.ok()) {
    const auto packed = slate::JsonToPayload(*json);
    auto again = slate::PayloadToJson(packed);
    if (!again.ok() || slate::JsonToPayload(*again) != packed) std::abort();
  }
  // A heap copy of exactly size bytes, so ASan sees any read past the end.
  const std::vector<uint8_t> exact(data, data + size);
  const size_t ours = slate::internal::MsgpackObjectBytes(exact);
  if (size > 0 && ours != MsgpackCObjectBytes(exact.data(), exact.size())) std::abort();

  slate::Entry e;
  e.id = 7;
  e.segment = "fuzz";
  e.author = "fuzzer";
  e.payload.assign(data, data + size);
  (void)slate::EntryTableRow(e);
  (void)slate::JsonText(slate::EntryToJson(e));
  return 0;
}
