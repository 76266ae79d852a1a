// Payloads are msgpack in the pool and JSON at the edges (request files,
// handler results, printed output). These convert one to the other.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/status.h"

namespace slate {

// An empty payload reads as JSON null. Malformed bytes are an error, never
// an exception.
Result<nlohmann::json> PayloadToJson(std::span<const uint8_t> payload);
std::vector<uint8_t> JsonToPayload(const nlohmann::json& value);

}  // namespace slate
