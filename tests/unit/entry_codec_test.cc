#include "slate/internal/entry_codec.h"

#include <gtest/gtest.h>

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
  std::vector<uint8_t> data = {200, 0, 0};  // author longer than allowed
  data.resize(300, 'a');
  DataPrefix p;
  EXPECT_FALSE(DecodePrefix(data, &p));
  std::vector<uint8_t> zero_tag = {0, 1, 0, 0};
  EXPECT_FALSE(DecodePrefix(zero_tag, &p));
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

TEST(EntryCodecTest, BloomHasEveryTagBit) {
  const uint64_t sut = TagBloom({"alpha", "beta"});
  EXPECT_EQ(sut & TagBit("alpha"), TagBit("alpha"));
  EXPECT_EQ(sut & TagBit("beta"), TagBit("beta"));
  EXPECT_NE(Hash32(""), 0u);
}

}  // namespace
}  // namespace slate::internal
