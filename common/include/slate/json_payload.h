// Payloads are msgpack in the pool and JSON at the edges (request files,
// handler results, printed output). These convert one to the other.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slate/status.h"

namespace slate {

// An empty payload reads as JSON null. Malformed bytes are an error, never
// an exception.
Result<nlohmann::json> PayloadToJson(std::span<const uint8_t> payload);
std::vector<uint8_t> JsonToPayload(const nlohmann::json& value);

// JSON as text for output. Strings read from a pool may hold invalid UTF-8
// (a peer wrote them): they are rendered with U+FFFD, never thrown about.
std::string JsonText(const nlohmann::json& value, int indent = -1);
std::string JsonText(const nlohmann::ordered_json& value, int indent = -1);

}  // namespace slate
