#include "slate/internal/entry_codec.h"

#include <cmath>
#include <cstring>

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

uint32_t TagBit(std::string_view tag) {
  const uint32_t h = Hash32(tag);
  return (1u << (h & 31)) | (1u << ((h >> 5) & 31));
}

uint32_t TagBloom(const std::vector<std::string>& tags) {
  uint32_t bloom = 0;
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

Status CheckTags(const std::vector<std::string>& tags) {
  if (tags.size() > kMaxTags)
    return {StatusCode::kInvalidArgument,
            std::to_string(tags.size()) + " tags given, at most " +
                std::to_string(kMaxTags) + " allowed"};
  for (size_t i = 0; i < tags.size(); ++i) {
    const std::string& t = tags[i];
    if (t.empty() || t.size() > kMaxTagBytes)
      return {StatusCode::kInvalidArgument,
              "tag '" + t.substr(0, 80) + "' must be 1 to " +
                  std::to_string(kMaxTagBytes) + " bytes"};
    if (t.find('\0') != std::string::npos)
      return {StatusCode::kInvalidArgument, "tag contains a NUL byte"};
    for (size_t j = 0; j < i; ++j)
      if (tags[j] == t)
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

Status CheckAuthor(std::string_view author) {
  if (author.size() > kMaxAuthorBytes)
    return {StatusCode::kInvalidArgument,
            "author is " + std::to_string(author.size()) +
                " bytes, at most 64 allowed"};
  if (author.find('\0') != std::string_view::npos)
    return {StatusCode::kInvalidArgument, "author contains a NUL byte"};
  return Status::Ok();
}

Status CheckImportance(float importance) {
  if (!std::isfinite(importance) || importance < 0.0f || importance > 1.0f)
    return {StatusCode::kInvalidArgument,
            "importance " + std::to_string(importance) + " is outside [0, 1]"};
  return Status::Ok();
}

namespace {

// Length of the msgpack object header at p (its type byte and length
// fields) plus any inline body, and how many nested objects follow it.
// False when the header is cut short or the byte is never used (0xc1).
bool ObjectExtent(const uint8_t* p, size_t avail, size_t* bytes, uint64_t* children) {
  auto be = [&](size_t off, size_t n, uint64_t* v) {
    if (avail < off + n) return false;
    *v = 0;
    for (size_t i = 0; i < n; ++i) *v = (*v << 8) | p[off + i];
    return true;
  };
  const uint8_t t = p[0];
  uint64_t n = 0;
  *children = 0;
  if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
    *bytes = 1;  // fixint, nil, false, true
  } else if (t >= 0x80 && t <= 0x8f) {
    *bytes = 1, *children = 2u * (t & 0x0f);  // fixmap
  } else if (t >= 0x90 && t <= 0x9f) {
    *bytes = 1, *children = t & 0x0f;  // fixarray
  } else if (t >= 0xa0 && t <= 0xbf) {
    *bytes = 1u + (t & 0x1f);  // fixstr
  } else {
    switch (t) {
      case 0xc4: case 0xd9: if (!be(1, 1, &n)) return false; *bytes = 2 + n; break;
      case 0xc5: case 0xda: if (!be(1, 2, &n)) return false; *bytes = 3 + n; break;
      case 0xc6: case 0xdb: if (!be(1, 4, &n)) return false; *bytes = 5 + n; break;
      case 0xc7: if (!be(1, 1, &n)) return false; *bytes = 3 + n; break;  // ext8
      case 0xc8: if (!be(1, 2, &n)) return false; *bytes = 4 + n; break;
      case 0xc9: if (!be(1, 4, &n)) return false; *bytes = 6 + n; break;
      case 0xca: case 0xce: case 0xd2: *bytes = 5; break;
      case 0xcb: case 0xcf: case 0xd3: *bytes = 9; break;
      case 0xcc: case 0xd0: *bytes = 2; break;
      case 0xcd: case 0xd1: *bytes = 3; break;
      case 0xd4: *bytes = 3; break;   // fixext 1
      case 0xd5: *bytes = 4; break;
      case 0xd6: *bytes = 6; break;
      case 0xd7: *bytes = 10; break;
      case 0xd8: *bytes = 18; break;
      case 0xdc: if (!be(1, 2, &n)) return false; *bytes = 3, *children = n; break;
      case 0xdd: if (!be(1, 4, &n)) return false; *bytes = 5, *children = n; break;
      case 0xde: if (!be(1, 2, &n)) return false; *bytes = 3, *children = 2 * n; break;
      case 0xdf: if (!be(1, 4, &n)) return false; *bytes = 5, *children = 2 * n; break;
      default: return false;  // 0xc1: never used
    }
  }
  return *bytes <= avail;
}

}  // namespace

size_t MsgpackObjectBytes(std::span<const uint8_t> data) {
  // msgpack is a prefix code: one pass with a count of objects still owed
  // checks structure without recursion, allocation or a depth limit.
  size_t pos = 0;
  uint64_t owed = 1;
  while (owed > 0) {
    if (pos >= data.size()) return 0;
    size_t bytes = 0;
    uint64_t children = 0;
    if (!ObjectExtent(data.data() + pos, data.size() - pos, &bytes, &children)) return 0;
    // Every child takes at least one byte: a count beyond what is left is a lie.
    if (children > data.size() - pos) return 0;
    pos += bytes;
    owed += children - 1;
  }
  return pos;
}

Status ValidatePayload(std::span<const uint8_t> payload, uint32_t max_payload) {
  if (payload.size() > max_payload)
    return {StatusCode::kInvalidArgument,
            "payload is " + std::to_string(payload.size()) +
                " bytes, this pool allows at most " +
                std::to_string(max_payload)};
  if (payload.empty()) return Status::Ok();
  const size_t used = MsgpackObjectBytes(payload);
  if (used == 0)
    return {StatusCode::kInvalidArgument, "payload is not valid msgpack"};
  if (used != payload.size())
    return {StatusCode::kInvalidArgument,
            "payload has " + std::to_string(payload.size() - used) +
                " bytes after its msgpack object"};
  return Status::Ok();
}

void EncodeDataInto(std::vector<uint8_t>* out, std::string_view author,
                    std::string_view requires_cap, const std::vector<std::string>& tags,
                    std::span<const uint8_t> payload, int author_row) {
  if (author_row >= 0) author = {};
  size_t size = 3 + tags.size() + author.size() + requires_cap.size() + payload.size();
  for (const auto& t : tags) size += t.size();
  out->resize(size);
  uint8_t* p = out->data();
  *p++ = author_row >= 0 ? static_cast<uint8_t>(kInternedAuthor | author_row)
                         : static_cast<uint8_t>(author.size());
  *p++ = static_cast<uint8_t>(tags.size());
  *p++ = static_cast<uint8_t>(requires_cap.size());
  for (const auto& t : tags) *p++ = static_cast<uint8_t>(t.size());
  auto put = [&](const void* src, size_t n) {
    if (n > 0) std::memcpy(p, src, n);
    p += n;
  };
  put(author.data(), author.size());
  put(requires_cap.data(), requires_cap.size());
  for (const auto& t : tags) put(t.data(), t.size());
  put(payload.data(), payload.size());
}

std::vector<uint8_t> EncodeData(std::string_view author,
                                std::string_view requires_cap,
                                const std::vector<std::string>& tags,
                                std::span<const uint8_t> payload, int author_row) {
  std::vector<uint8_t> d;
  EncodeDataInto(&d, author, requires_cap, tags, payload, author_row);
  return d;
}

uint32_t PrefixBytesOf(std::span<const uint8_t> data) {
  if (data.size() < 3) return 0;
  // An interned author's row is checked where it is resolved (author_table.h).
  const uint32_t author_len = AuthorBytesIn(data[0]);
  const uint32_t ntags = data[1];
  const uint32_t req_len = data[2];
  if (ntags > kMaxTags || author_len > kMaxAuthorBytes || req_len > kMaxRequiresBytes)
    return 0;
  // Each tag length is read only once pos, past them all, is within data.
  uint32_t pos = 3 + ntags + author_len + req_len;
  for (uint32_t i = 0; i < ntags && pos <= data.size(); ++i) {
    const uint32_t len = data[3 + i];
    if (len == 0 || len > kMaxTagBytes) return 0;
    pos += len;
  }
  return pos <= data.size() ? pos : 0;
}

void PrefixViewsOf(const uint8_t* data, uint32_t prefix_bytes, PrefixView* out) {
  const char* at = reinterpret_cast<const char*>(data) + 3 + data[1];
  auto take = [&at](uint32_t n) {
    const std::string_view v(at, n);
    at += n;
    return v;
  };
  out->author_row = AuthorRowIn(data[0]);
  out->author = take(AuthorBytesIn(data[0]));
  out->requires_cap = take(data[2]);
  out->ntags = data[1];
  for (uint32_t i = 0; i < out->ntags; ++i) out->tags[i] = take(data[3 + i]);
  out->prefix_bytes = prefix_bytes;
}

bool DecodePrefixView(std::span<const uint8_t> data, PrefixView* out) {
  const uint32_t prefix_bytes = PrefixBytesOf(data);
  if (prefix_bytes == 0) return false;
  PrefixViewsOf(data.data(), prefix_bytes, out);
  return true;
}

bool DecodePrefix(std::span<const uint8_t> data, DataPrefix* out) {
  PrefixView v;
  if (!DecodePrefixView(data, &v)) return false;
  out->author_row = v.author_row;
  out->author.assign(v.author);
  out->requires_cap.assign(v.requires_cap);
  out->tags.assign(v.tags.begin(), v.tags.begin() + v.ntags);
  out->prefix_bytes = v.prefix_bytes;
  return true;
}

uint32_t MaxPrefixBytes() { return kMaxPrefixBytes; }

}  // namespace slate::internal
