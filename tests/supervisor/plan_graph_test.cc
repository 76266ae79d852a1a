// A plan's graph checks: every way depends_on can be wrong is refused before
// anything runs, naming the file, the line and the ids; good graphs keep
// their edges in depends_on order.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "plan/plan_graph.h"
#include "request/request_reader.h"

namespace slate::supervisor {
namespace {

Result<std::vector<TaskDef>> Read(const std::string& text) {
  std::istringstream in(text);
  return ReadRequestStream("plan.jsonl", in, SplitMode::kJsonLines);
}

std::string Error(const std::string& text) {
  auto r = Read(text);
  return r.ok() ? "" : r.status().message();
}

TEST(PlanGraphTest, ADiamondKeepsItsEdgesInDependsOnOrder) {
  auto defs = Read(
      "{\"id\": \"schema\", \"payload\": 1}\n"
      "{\"id\": \"api\", \"payload\": 2, \"depends_on\": [\"schema\"]}\n"
      "\n"
      "{\"id\": \"web\", \"payload\": 3, \"depends_on\": [\"schema\"], \"importance\": 0.9}\n"
      "{\"id\": \"ship\", \"payload\": 4, \"depends_on\": [\"web\", \"api\"]}\n");
  ASSERT_TRUE(defs.ok()) << defs.status().message();
  EXPECT_TRUE(IsPlan(*defs));
  EXPECT_EQ((*defs)[3].line, 5u);
  EXPECT_FLOAT_EQ((*defs)[2].importance, 0.9f);
  auto sut = PlanGraph::Build("plan.jsonl", *defs);
  ASSERT_TRUE(sut.ok());
  ASSERT_EQ(sut->size(), 4u);
  EXPECT_TRUE(sut->DepsOf(0).empty());
  EXPECT_EQ(std::vector<uint32_t>(sut->DepsOf(3).begin(), sut->DepsOf(3).end()),
            (std::vector<uint32_t>{2, 1}));
}

TEST(PlanGraphTest, ARequestWithoutDependenciesIsNoPlan) {
  auto defs = Read("{\"id\": \"a\", \"payload\": 1}\n{\"id\": \"a\", \"payload\": 2}\n");
  ASSERT_TRUE(defs.ok()) << "duplicate ids only matter in a plan";
  EXPECT_FALSE(IsPlan(*defs));
}

TEST(PlanGraphTest, UnknownDuplicateAndSelfReferencesNameTheLine) {
  EXPECT_EQ(Error("{\"id\": \"a\", \"payload\": 1}\n"
                  "{\"id\": \"b\", \"payload\": 1, \"depends_on\": [\"zz\"]}"),
            "plan.jsonl:2: depends on unknown id 'zz'");
  EXPECT_EQ(Error("{\"id\": \"a\", \"payload\": 1}\n"
                  "{\"id\": \"a\", \"payload\": 1, \"depends_on\": [\"a\"]}"),
            "plan.jsonl:2: duplicate id 'a' (also on line 1)");
  EXPECT_EQ(Error("{\"id\": \"a\", \"payload\": 1, \"depends_on\": [\"a\"]}"),
            "plan.jsonl:1: 'a' depends on itself");
  EXPECT_EQ(Error("{\"id\": \"a\", \"payload\": 1}\n"
                  "{\"id\": 7, \"payload\": 1, \"depends_on\": [\"a\", \"a\"]}"),
            "plan.jsonl:2: names 'a' twice in depends_on");
}

TEST(PlanGraphTest, ACycleIsNamedWithItsIdsAndLines) {
  EXPECT_EQ(Error("{\"id\": \"free\", \"payload\": 0}\n"
                  "{\"id\": \"a\", \"payload\": 1, \"depends_on\": [\"c\"]}\n"
                  "{\"id\": \"b\", \"payload\": 1, \"depends_on\": [\"a\", \"free\"]}\n"
                  "{\"id\": \"c\", \"payload\": 1, \"depends_on\": [\"b\"]}\n"
                  "{\"id\": \"after\", \"payload\": 1, \"depends_on\": [\"c\"]}\n"),
            "plan.jsonl: dependency cycle: 'a' depends on 'c' depends on 'b' depends on 'a' "
            "(lines 2, 4, 3)");
}

TEST(PlanGraphTest, BadDependsOnValuesAreRefused) {
  EXPECT_EQ(Error("{\"payload\": 1, \"depends_on\": \"a\"}"),
            "plan.jsonl:1: \"depends_on\" must be an array of ids");
  EXPECT_EQ(Error("{\"payload\": 1, \"depends_on\": [1.5]}"),
            "plan.jsonl:1: \"depends_on\" must hold ids: strings or integers");
  EXPECT_EQ(Error("{\"payload\": 1, \"importance\": 2}"),
            "plan.jsonl:1: \"importance\" must be a number in [0, 1]");
}

TEST(PlanGraphTest, ALongChainAndAWideFanInAreCheckedWithoutRecursion) {
  std::vector<TaskDef> chain(100'000), fan(100'001);
  for (size_t i = 0; i < chain.size(); ++i) {
    chain[i].user_id = std::to_string(i);
    chain[i].line = i + 1;
    if (i > 0) chain[i].depends_on = {std::to_string(i - 1)};
  }
  for (size_t i = 0; i + 1 < fan.size(); ++i) {
    fan[i].user_id = std::to_string(i);
    fan.back().depends_on.push_back(std::to_string(i));
  }
  fan.back().user_id = "sink";
  EXPECT_TRUE(CheckPlanGraph("chain", chain).ok());
  EXPECT_TRUE(CheckPlanGraph("fan", fan).ok());
  chain[0].depends_on = {"99999"};  // closes the chain into one long cycle
  const Status s = CheckPlanGraph("chain", chain);
  EXPECT_NE(s.message().find("dependency cycle"), std::string::npos);
}

}  // namespace
}  // namespace slate::supervisor
