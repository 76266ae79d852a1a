#include "payload.h"

#include <msgpack.hpp>
#include <string>

namespace slate::bench {

std::vector<uint8_t> Payload64(std::mt19937_64& rng) {
  std::string text(kPayloadBytes - 2, 'a');  // str8: 2 header bytes
  for (char& c : text) c = static_cast<char>('a' + rng() % 26);
  msgpack::sbuffer b;
  msgpack::pack(b, text);
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return {p, p + b.size()};
}

}  // namespace slate::bench
