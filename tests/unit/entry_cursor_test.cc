#include "slate/entry_cursor.h"

#include <gtest/gtest.h>

#include "util/test_pool.h"

namespace slate {
namespace {

TEST(EntryCursorTest, ReturnsEachMatchOnceInIdOrder) {
  testing::ScopedPool pool("cursor");
  Query q;
  q.segments = {"s"};
  q.all_tags = {"x"};
  EntryCursor sut(*pool, q);
  EXPECT_TRUE(sut.Next()->empty());
  const EntryId a = *pool->Write(testing::MakeEntry("s", {"x"}));
  (void)*pool->Write(testing::MakeEntry("s", {"y"}));
  const EntryId c = *pool->Write(testing::MakeEntry("s", {"x"}));
  const auto first = *sut.Next();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, a);
  EXPECT_EQ(first[1].id, c);
  EXPECT_TRUE(sut.Next()->empty());
  const EntryId d = *pool->Write(testing::MakeEntry("s", {"x"}));
  const auto second = *sut.Next();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, d);
  EXPECT_EQ(sut.position(), d);
}

}  // namespace
}  // namespace slate
