// The request reader: each way a request line can be wrong gets its reason,
// with the file and line, and inputs the fuzzer found stay fixed.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "request/request_reader.h"

namespace slate::supervisor {
namespace {

Result<std::vector<TaskDef>> Read(const std::string& text, SplitMode mode = SplitMode::kJsonLines) {
  std::istringstream in(text);
  return ReadRequestStream("req", in, mode);
}

std::string Error(const std::string& text, SplitMode mode = SplitMode::kJsonLines) {
  auto r = Read(text, mode);
  return r.ok() ? "" : r.status().message();
}

TEST(RequestReaderTest, ReadsTasksSkippingBlankLinesAndCarriageReturns) {
  auto r = Read("{\"payload\": 1}\r\n\n  \n{\"payload\": \"b\", \"id\": 7}");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].payload, 1);
  EXPECT_EQ(*(*r)[1].user_id, "7");
  auto lines = Read("one\r\n\ntwo", SplitMode::kLines);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].payload, "one");
}

TEST(RequestReaderTest, ErrorsNameTheLineAndTheReason) {
  EXPECT_EQ(Error("{\"payload\": 1}\nnot json\n"), "req:2: not valid JSON");
  EXPECT_EQ(Error("[1]"), "req:1: a task must be a JSON object");
  EXPECT_EQ(Error("{\"payload\": 1, \"x\": 2}"), "req:1: unknown field \"x\"");
  EXPECT_EQ(Error("{\"id\": 1}"), "req:1: missing field \"payload\"");
  EXPECT_NE(Error("{\"payload\": 1, \"priority\": 300}").find("[-128, 127]"), std::string::npos);
  EXPECT_EQ(Error("{\"payload\": 1, \"validate\": \"no\"}"),
            "req:1: \"validate\" must be true or false");
  EXPECT_EQ(Error("{\"payload\": 1, \"on_exhausted\": \"ask\"}"),
            "req:1: unknown on_exhausted 'ask' (known: dead-letter, review, fail-request)");
}

// Found by request_fuzz: a deadline before 1970 overflowed int64 nanoseconds.
TEST(RequestReaderTest, DeadlinesOutsideTheRepresentableRangeAreRefused) {
  EXPECT_NE(Error("{\"payload\": 1, \"deadline\": \"1013-11-21T18:00:00Z\"}").find("between 1970"),
            std::string::npos);
  EXPECT_NE(Error("{\"payload\": 1, \"deadline\": -5}").find("must be in [0,"), std::string::npos);
  EXPECT_NE(Error("{\"payload\": 1, \"deadline\": 18446744073709551615}").find("must be in [0,"),
            std::string::npos);
  auto far = Read("{\"payload\": 1, \"deadline\": \"9999-12-31T23:59:59Z\"}");
  ASSERT_TRUE(far.ok()) << far.status().message();
  EXPECT_GT((*far)[0].deadline_ns, 0);  // clamped, not wrapped
  auto ok = Read("{\"payload\": 1, \"deadline\": 1790000000000}");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].deadline_ns, int64_t{1790000000000} * 1'000'000);
}

TEST(RequestReaderTest, OverlongLineIsRefusedWithoutHoldingIt) {
  const std::string line = "{\"payload\": \"" + std::string(17u << 20, 'y') + "\"}\n";
  EXPECT_EQ(Error(line), "req:1: line is longer than 16 MiB");
  EXPECT_EQ(Error(line, SplitMode::kLines), "req:1: line is longer than 16 MiB");
}

TEST(RequestReaderTest, PayloadLargerThanAPoolTakesIsRefused) {
  const std::string big = "{\"payload\": \"" + std::string(1u << 20, 'p') + "\"}";
  EXPECT_NE(Error(big).find("a task carries at most 1048576"), std::string::npos);
  // Doubles: "0.1" is 3 characters of JSON and 9 bytes of msgpack.
  std::string doubles = "{\"payload\": [";
  for (int i = 0; i < 150000; ++i) doubles += i ? ",0.1" : "0.1";
  doubles += "]}";
  EXPECT_NE(Error(doubles).find("bytes as msgpack"), std::string::npos);
  EXPECT_NE(Error(std::string(1u << 20, 'l'), SplitMode::kLines).find("at most"),
            std::string::npos);
}

}  // namespace
}  // namespace slate::supervisor
