// Validation and encoding of an entry's data chain prefix, and the hashes the
// slot keeps to filter without reading the chain.
//
// Data = [author_len][ntags][requires_len][tag_len x ntags]
//        [author][requires][tag...][payload]
// An author kept in the pool's author table is named instead by its row:
// the first byte is kInternedAuthor | row, and [author] is absent
// (author_table.h resolves it).
// Decode treats its input as untrusted: every length is checked against the
// bytes actually present.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slate/entry.h"
#include "slate/task.h"
#include "slate/status.h"

namespace slate::internal {

inline constexpr uint8_t kInternedAuthor = 0x80;  // above any author_len
static_assert(kMaxAuthorBytes < kInternedAuthor);
// What the data's first byte says of its author: the row it names, or -1;
// and how many of the author's bytes the data carries.
inline int AuthorRowIn(uint8_t first) {
  return first >= kInternedAuthor ? first & ~kInternedAuthor : -1;
}
inline uint32_t AuthorBytesIn(uint8_t first) { return first >= kInternedAuthor ? 0 : first; }

uint32_t Hash32(std::string_view s);  // never 0 for a non-empty string
uint32_t TagBit(std::string_view tag);  // two bits of the 32-bit tag bloom
uint32_t TagBloom(const std::vector<std::string>& tags);

// [A-Za-z0-9._-], 1..max_len.
bool IsValidName(std::string_view s, size_t max_len);
Status ValidateSegmentName(std::string_view segment);
// The full checks, with their messages. The Validate* forms below pass the
// common case inline (every post and completion checks its entry) and call
// these for the rest; each inline pass implies the full check's.
Status CheckTags(const std::vector<std::string>& tags);
Status CheckAuthor(std::string_view author);
Status CheckImportance(float importance);
inline Status ValidateTags(const std::vector<std::string>& tags) {
  return tags.empty() ? Status::Ok() : CheckTags(tags);
}
inline Status ValidateAuthor(std::string_view author) {
  return author.size() <= kMaxAuthorBytes && author.find('\0') == std::string_view::npos
             ? Status::Ok()
             : CheckAuthor(author);
}
inline Status ValidateImportance(float importance) {  // NaN fails both tests
  return importance >= 0.0f && importance <= 1.0f ? Status::Ok() : CheckImportance(importance);
}
// Bytes taken by the one msgpack object data starts with, 0 when it is
// malformed or cut short. Checks structure only (not UTF-8 in strings);
// never allocates, never recurses.
size_t MsgpackObjectBytes(std::span<const uint8_t> data);
// One complete msgpack object and nothing after it; empty is allowed.
Status ValidatePayload(std::span<const uint8_t> payload, uint32_t max_payload);

struct DataPrefix {
  int author_row = -1;  // >= 0: interned, and author is empty until resolved
  std::string author;
  std::string requires_cap;
  std::vector<std::string> tags;
  uint32_t prefix_bytes = 0;
};

// The same, as views into the data it was decoded from.
struct PrefixView {
  int author_row = -1;  // >= 0: interned, and author is empty until resolved
  std::string_view author;
  std::string_view requires_cap;
  std::array<std::string_view, kMaxTags> tags;
  uint32_t ntags = 0;
  uint32_t prefix_bytes = 0;
};
// author_row >= 0: the author is that row of the pool's author table, and
// is not copied (`author` is then ignored).
std::vector<uint8_t> EncodeData(std::string_view author,
                                std::string_view requires_cap,
                                const std::vector<std::string>& tags,
                                std::span<const uint8_t> payload, int author_row = -1);
// The same into *out, reusing its storage.
void EncodeDataInto(std::vector<uint8_t>* out, std::string_view author,
                    std::string_view requires_cap, const std::vector<std::string>& tags,
                    std::span<const uint8_t> payload, int author_row = -1);
// Parses the prefix of data; false if it is malformed or truncated.
bool DecodePrefix(std::span<const uint8_t> data, DataPrefix* out);
bool DecodePrefixView(std::span<const uint8_t> data, PrefixView* out);
// The length of data's prefix (at least 3), or 0 if it is malformed or
// truncated: the checks DecodePrefixView makes, without the views.
uint32_t PrefixBytesOf(std::span<const uint8_t> data);
// The views of a prefix PrefixBytesOf has already measured (prefix_bytes,
// never 0), without checking it again: for bytes this process checked and
// has kept to itself since.
void PrefixViewsOf(const uint8_t* data, uint32_t prefix_bytes, PrefixView* out);
// Longest possible prefix, for reading only the prefix of a chain: 3
// length bytes, 8 tag lengths, author, requires, 8 tags.
inline constexpr uint32_t kMaxPrefixBytes =
    3 + kMaxTags + kMaxAuthorBytes + kMaxRequiresBytes + kMaxTags * kMaxTagBytes;
uint32_t MaxPrefixBytes();

}  // namespace slate::internal
