// The bench's payloads: 64 bytes of msgpack (a string of 62 seeded
// letters), the size the workloads specify.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace slate::bench {

inline constexpr size_t kPayloadBytes = 64;
std::vector<uint8_t> Payload64(std::mt19937_64& rng);

}  // namespace slate::bench
