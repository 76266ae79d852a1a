#include "slate/json_payload.h"

namespace slate {

Result<nlohmann::json> PayloadToJson(std::span<const uint8_t> payload) {
  if (payload.empty()) return nlohmann::json(nullptr);
  try {
    return nlohmann::json::from_msgpack(payload.begin(), payload.end());
  } catch (const std::exception& e) {
    return Status{StatusCode::kInvalidArgument,
                  std::string("payload is not msgpack that maps to JSON: ") + e.what()};
  }
}

std::vector<uint8_t> JsonToPayload(const nlohmann::json& value) {
  return nlohmann::json::to_msgpack(value);
}

std::string JsonText(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string JsonText(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace slate
