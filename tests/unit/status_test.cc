#include "slate/status.h"

#include <gtest/gtest.h>

namespace slate {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status sut;
  EXPECT_TRUE(sut.ok());
  EXPECT_EQ(sut.ToString(), "ok");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  const Status sut(StatusCode::kPoolFull, "pool 'x' is full");
  EXPECT_FALSE(sut.ok());
  EXPECT_EQ(sut.code(), StatusCode::kPoolFull);
  EXPECT_EQ(sut.ToString(), "pool full: pool 'x' is full");
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(Status(StatusCode::kNotFound, "nope"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace slate
