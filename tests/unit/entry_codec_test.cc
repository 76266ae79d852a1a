#include "slate/internal/entry_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <msgpack.hpp>
#include <random>

#include "slate/internal/layout.h"
#include "util/test_pool.h"

namespace slate::internal {
namespace {

TEST(EntryCodecTest, RoundTripsPrefixAndLeavesPayloadAfterIt) {
  const std::vector<std::string> tags = {"a", "bb", std::string(64, 't')};
  const auto payload = testing::PackStr("hello");
  const auto data = EncodeData("me", "gpu", tags, payload);
  DataPrefix sut;
  ASSERT_TRUE(DecodePrefix(data, &sut));
  EXPECT_EQ(sut.author, "me");
  EXPECT_EQ(sut.requires_cap, "gpu");
  EXPECT_EQ(sut.tags, tags);
  EXPECT_EQ(data.size() - sut.prefix_bytes, payload.size());
}

TEST(EntryCodecTest, DecodeRejectsEveryTruncation) {
  const auto data = EncodeData("author", "", {"x", "yy"}, {});
  for (size_t n = 0; n < data.size(); ++n) {
    DataPrefix p;
    EXPECT_FALSE(DecodePrefix({data.data(), n}, &p)) << "length " << n;
  }
}

TEST(EntryCodecTest, DecodeRejectsImpossibleLengths) {
  for (int len : {65, 100, 127}) {  // authors longer than allowed, not interned
    std::vector<uint8_t> data = {static_cast<uint8_t>(len), 0, 0};
    data.resize(300, 'a');
    DataPrefix p;
    EXPECT_FALSE(DecodePrefix(data, &p)) << len;
  }
  DataPrefix p;
  std::vector<uint8_t> zero_tag = {0, 1, 0, 0};
  EXPECT_FALSE(DecodePrefix(zero_tag, &p));
}

// Since layout 6 an author in the pool's author table is named by its row
// in the first byte, and its bytes are left out.
TEST(EntryCodecTest, AnInternedAuthorIsItsRowAlone) {
  const auto inline_form = EncodeData("bench-producer", "cap", {"x"}, testing::PackStr("p"));
  const auto interned = EncodeData("bench-producer", "cap", {"x"}, testing::PackStr("p"), 5);
  EXPECT_EQ(interned.size() + 14, inline_form.size());
  EXPECT_EQ(interned[0], kInternedAuthor | 5);
  DataPrefix p;
  ASSERT_TRUE(DecodePrefix(interned, &p));
  EXPECT_EQ(p.author_row, 5);
  EXPECT_EQ(p.author, "");
  EXPECT_EQ(p.requires_cap, "cap");
  EXPECT_EQ(p.tags, std::vector<std::string>{"x"});
  EXPECT_EQ(PrefixBytesOf(interned), p.prefix_bytes);
  PrefixView v;
  ASSERT_TRUE(DecodePrefixView(interned, &v));
  EXPECT_EQ(v.author_row, 5);
  EXPECT_EQ(v.requires_cap, "cap");
  ASSERT_TRUE(DecodePrefix(inline_form, &p));
  EXPECT_EQ(p.author_row, -1);
  EXPECT_EQ(p.author, "bench-producer");
  // The highest row fits the byte.
  const auto last = EncodeData("a", "", {}, {}, kAuthorRows - 1);
  ASSERT_TRUE(DecodePrefix(last, &p));
  EXPECT_EQ(p.author_row, static_cast<int>(kAuthorRows) - 1);
}

TEST(EntryCodecTest, PrefixBytesOfAgreesWithDecodeAndRefusesWhatItRefuses) {
  const auto data = EncodeData("author", "cap", {"x", "yy"}, testing::PackStr("p"));
  DataPrefix p;
  ASSERT_TRUE(DecodePrefix(data, &p));
  EXPECT_EQ(PrefixBytesOf(data), p.prefix_bytes);
  for (size_t n = 0; n < p.prefix_bytes; ++n)
    EXPECT_EQ(PrefixBytesOf({data.data(), n}), 0u) << "length " << n;
  const std::vector<uint8_t> zero_tag = {0, 1, 0, 0, 'x'};
  EXPECT_EQ(PrefixBytesOf(zero_tag), 0u);
  std::vector<uint8_t> long_tag = {0, 1, 0, 65};
  long_tag.resize(4 + 65, 't');
  EXPECT_EQ(PrefixBytesOf(long_tag), 0u);
  const std::vector<uint8_t> nine_tags = {0, 9, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 'a', 'a', 'a', 'a',
                                          'a', 'a', 'a', 'a', 'a'};
  EXPECT_EQ(PrefixBytesOf(nine_tags), 0u);
}

TEST(EntryCodecTest, ValidatesNamesTagsAuthorAndImportance) {
  EXPECT_TRUE(ValidateSegmentName("my.seg_1-x").ok());
  EXPECT_FALSE(ValidateSegmentName("").ok());
  EXPECT_FALSE(ValidateSegmentName("has space").ok());
  EXPECT_FALSE(ValidateSegmentName(std::string(33, 'a')).ok());
  EXPECT_TRUE(ValidateTags({"a", "b"}).ok());
  EXPECT_FALSE(ValidateTags({"a", "a"}).ok());
  EXPECT_FALSE(ValidateTags({""}).ok());
  EXPECT_FALSE(ValidateTags({std::string(65, 'x')}).ok());
  EXPECT_FALSE(ValidateTags(std::vector<std::string>(9, "x")).ok());
  EXPECT_FALSE(ValidateAuthor(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateImportance(1.5f).ok());
  EXPECT_FALSE(ValidateImportance(-0.1f).ok());
  EXPECT_FALSE(ValidateImportance(std::numeric_limits<float>::quiet_NaN()).ok());
}

// The inline passes of Validate* must never accept what the full checks
// refuse; on the edges they must also agree where they accept.
TEST(EntryCodecTest, InlineValidationAgreesWithTheFullChecks) {
  const float kInf = std::numeric_limits<float>::infinity();
  for (float x : {0.0f, -0.0f, 1.0f, 0.5f, std::nextafter(1.0f, 2.0f), std::nextafter(0.0f, -1.0f),
                  std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::quiet_NaN(),
                  kInf, -kInf})
    EXPECT_EQ(ValidateImportance(x).ok(), CheckImportance(x).ok()) << x;
  for (const std::string& a : {std::string(), std::string(64, 'a'), std::string(65, 'a'),
                               std::string("a\0b", 3), std::string(1, '\0')})
    EXPECT_EQ(ValidateAuthor(a).ok(), CheckAuthor(a).ok()) << a.size();
  for (const std::vector<std::string>& t :
       {std::vector<std::string>{}, {"a"}, {""}, {"a", "a"}, std::vector<std::string>(9, "x")})
    EXPECT_EQ(ValidateTags(t).ok(), CheckTags(t).ok()) << t.size();
  EXPECT_FALSE(ValidateAuthor(std::string("a\0b", 3)).ok());
  EXPECT_TRUE(ValidateImportance(-0.0f).ok());
}

TEST(EntryCodecTest, PayloadMustBeExactlyOneMsgpackObject) {
  EXPECT_TRUE(ValidatePayload({}, 10).ok());
  EXPECT_TRUE(ValidatePayload(testing::PackStr("ok"), 100).ok());
  auto two = testing::PackInt(1);
  two.push_back(0x01);
  EXPECT_FALSE(ValidatePayload(two, 100).ok());
  const std::vector<uint8_t> truncated = {0xda, 0x00, 0x10, 'a'};  // str16 of 16
  EXPECT_FALSE(ValidatePayload(truncated, 100).ok());
  const std::vector<uint8_t> reserved = {0xc1};  // never used in msgpack
  EXPECT_FALSE(ValidatePayload(reserved, 100).ok());
  EXPECT_FALSE(ValidatePayload(testing::PackStr(std::string(200, 'x')), 100).ok());
}

// msgpack-c's own parser is the reference: the hand-written validator must
// agree with it on valid objects of every type, on every truncation of
// them, and on random bytes.
bool ReferenceAccepts(const std::vector<uint8_t>& b) {
  if (b.empty()) return false;
  msgpack::null_visitor v;
  size_t off = 0;
  try {
    return msgpack::parse(reinterpret_cast<const char*>(b.data()), b.size(), off, v) &&
           off == b.size();
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<uint8_t> Packed(const msgpack::sbuffer& sb) {
  const auto* p = reinterpret_cast<const uint8_t*>(sb.data());
  return {p, p + sb.size()};
}

TEST(EntryCodecTest, MsgpackValidatorAgreesWithMsgpackC) {
  std::vector<std::vector<uint8_t>> valid;
  auto add = [&](const auto& v) {
    msgpack::sbuffer sb;
    msgpack::pack(sb, v);
    valid.push_back(Packed(sb));
  };
  add(msgpack::type::nil_t()); add(true); add(false); add(0); add(-1); add(-33); add(127); add(128);
  add(-129); add(65536); add(-70000); add(uint64_t{1} << 40); add(int64_t{-1} << 40);
  add(1.5f); add(2.5); add(std::string()); add(std::string(31, 's'));
  add(std::string(200, 's')); add(std::string(70000, 's'));
  add(std::vector<uint8_t>(3, 1)); add(std::vector<uint8_t>(300, 1));
  add(std::vector<int>(20, 7)); add(std::vector<int>(70000, 7));
  add(std::map<std::string, std::vector<int>>{{"a", {1, 2}}, {"b", {}}});
  add(std::vector<std::map<int, std::string>>{{{1, "x"}}, {}, {{2, "yy"}}});
  for (int n : {1, 2, 4, 8, 16, 3, 300, 70000}) {  // fixext and ext
    msgpack::sbuffer sb;
    msgpack::packer<msgpack::sbuffer> pk(sb);
    pk.pack_ext(static_cast<size_t>(n), 5);
    pk.pack_ext_body(std::string(static_cast<size_t>(n), 'e').data(), static_cast<size_t>(n));
    valid.push_back(Packed(sb));
  }
  for (const auto& v : valid) {
    ASSERT_TRUE(ReferenceAccepts(v));
    EXPECT_EQ(MsgpackObjectBytes(v), v.size());
    EXPECT_TRUE(ValidatePayload(v, 1u << 20).ok());
    for (size_t cut = 1; cut < v.size() && cut < 64; ++cut) {
      const std::vector<uint8_t> head(v.begin(), v.begin() + static_cast<long>(cut));
      EXPECT_EQ(MsgpackObjectBytes(head), 0u) << "cut at " << cut;
    }
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b(1 + rng() % 12);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    EXPECT_EQ(ValidatePayload(b, 1u << 20).ok(), ReferenceAccepts(b)) << "case " << i;
  }
}

TEST(EntryCodecTest, MsgpackValidatorRefusesLyingCounts) {
  // An array header claiming 2^32-1 elements in 5 bytes: refused at once,
  // without allocating or walking.
  const std::vector<uint8_t> lie = {0xdd, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(MsgpackObjectBytes(lie), 0u);
  const std::vector<uint8_t> map_lie = {0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01};
  EXPECT_EQ(MsgpackObjectBytes(map_lie), 0u);
}

TEST(EntryCodecTest, BloomHasEveryTagBit) {
  const uint32_t sut = TagBloom({"alpha", "beta"});
  EXPECT_EQ(sut & TagBit("alpha"), TagBit("alpha"));
  EXPECT_EQ(sut & TagBit("beta"), TagBit("beta"));
  EXPECT_NE(Hash32(""), 0u);
}

}  // namespace
}  // namespace slate::internal
