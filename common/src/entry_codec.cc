#include "slate/internal/entry_codec.h"

#include <cmath>
#include <msgpack.hpp>
#include <set>

#include "slate/entry.h"
#include "slate/task.h"

namespace slate::internal {

uint32_t Hash32(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  const uint32_t folded = static_cast<uint32_t>(h ^ (h >> 32));
  return folded == 0 ? 1 : folded;
}

uint64_t TagBit(std::string_view tag) {
  const uint32_t h = Hash32(tag);
  return (1ull << (h & 63)) | (1ull << ((h >> 6) & 63));
}

uint64_t TagBloom(const std::vector<std::string>& tags) {
  uint64_t bloom = 0;
  for (const auto& t : tags) bloom |= TagBit(t);
  return bloom;
}

bool IsValidName(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status ValidateTags(const std::vector<std::string>& tags) {
  if (tags.size() > kMaxTags)
    return {StatusCode::kInvalidArgument,
            std::to_string(tags.size()) + " tags given, at most " +
                std::to_string(kMaxTags) + " allowed"};
  std::set<std::string_view> seen;
  for (const auto& t : tags) {
    if (t.empty() || t.size() > kMaxTagBytes)
      return {StatusCode::kInvalidArgument,
              "tag '" + t.substr(0, 80) + "' must be 1 to " +
                  std::to_string(kMaxTagBytes) + " bytes"};
    if (t.find('\0') != std::string::npos)
      return {StatusCode::kInvalidArgument, "tag contains a NUL byte"};
    if (!seen.insert(t).second)
      return {StatusCode::kInvalidArgument, "tag '" + t + "' given twice"};
  }
  return Status::Ok();
}

Status ValidateSegmentName(std::string_view segment) {
  if (!IsValidName(segment, kMaxSegmentBytes))
    return {StatusCode::kInvalidArgument,
            "segment '" + std::string(segment.substr(0, 80)) +
                "' must be 1 to 32 characters of [A-Za-z0-9._-]"};
  return Status::Ok();
}

Status ValidateAuthor(std::string_view author) {
  if (author.size() > kMaxAuthorBytes)
    return {StatusCode::kInvalidArgument,
            "author is " + std::to_string(author.size()) +
                " bytes, at most 64 allowed"};
  if (author.find('\0') != std::string_view::npos)
    return {StatusCode::kInvalidArgument, "author contains a NUL byte"};
  return Status::Ok();
}

Status ValidateImportance(float importance) {
  if (!std::isfinite(importance) || importance < 0.0f || importance > 1.0f)
    return {StatusCode::kInvalidArgument,
            "importance " + std::to_string(importance) + " is outside [0, 1]"};
  return Status::Ok();
}

Status ValidatePayload(std::span<const uint8_t> payload, uint32_t max_payload) {
  if (payload.size() > max_payload)
    return {StatusCode::kInvalidArgument,
            "payload is " + std::to_string(payload.size()) +
                " bytes, this pool allows at most " +
                std::to_string(max_payload)};
  if (payload.empty()) return Status::Ok();
  msgpack::null_visitor visitor;
  size_t off = 0;
  bool parsed = false;
  try {
    parsed = msgpack::parse(reinterpret_cast<const char*>(payload.data()),
                            payload.size(), off, visitor);
  } catch (const std::exception&) {
    parsed = false;
  }
  if (!parsed)
    return {StatusCode::kInvalidArgument, "payload is not valid msgpack"};
  if (off != payload.size())
    return {StatusCode::kInvalidArgument,
            "payload has " + std::to_string(payload.size() - off) +
                " bytes after its msgpack object"};
  return Status::Ok();
}

std::vector<uint8_t> EncodeData(std::string_view author,
                                std::string_view requires_cap,
                                const std::vector<std::string>& tags,
                                std::span<const uint8_t> payload) {
  std::vector<uint8_t> d;
  d.reserve(3 + tags.size() + author.size() + requires_cap.size() +
            payload.size() + tags.size() * 16);
  d.push_back(static_cast<uint8_t>(author.size()));
  d.push_back(static_cast<uint8_t>(tags.size()));
  d.push_back(static_cast<uint8_t>(requires_cap.size()));
  for (const auto& t : tags) d.push_back(static_cast<uint8_t>(t.size()));
  d.insert(d.end(), author.begin(), author.end());
  d.insert(d.end(), requires_cap.begin(), requires_cap.end());
  for (const auto& t : tags) d.insert(d.end(), t.begin(), t.end());
  d.insert(d.end(), payload.begin(), payload.end());
  return d;
}

bool DecodePrefix(std::span<const uint8_t> data, DataPrefix* out) {
  if (data.size() < 3) return false;
  const uint32_t author_len = data[0];
  const uint32_t ntags = data[1];
  const uint32_t req_len = data[2];
  if (ntags > kMaxTags || author_len > kMaxAuthorBytes ||
      req_len > kMaxRequiresBytes || data.size() < 3 + ntags)
    return false;
  uint32_t pos = 3 + ntags;
  auto take = [&](uint32_t n, std::string* s) {
    if (pos + n > data.size()) return false;
    s->assign(reinterpret_cast<const char*>(data.data()) + pos, n);
    pos += n;
    return true;
  };
  if (!take(author_len, &out->author) || !take(req_len, &out->requires_cap))
    return false;
  out->tags.resize(ntags);
  for (uint32_t i = 0; i < ntags; ++i) {
    const uint32_t len = data[3 + i];
    if (len == 0 || len > kMaxTagBytes || !take(len, &out->tags[i])) return false;
  }
  out->prefix_bytes = pos;
  return true;
}

uint32_t MaxPrefixBytes() {
  return 3 + kMaxTags + kMaxAuthorBytes + kMaxRequiresBytes +
         kMaxTags * kMaxTagBytes;
}

}  // namespace slate::internal
