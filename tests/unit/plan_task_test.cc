// A plan task's stub round-trips, and its envelope's context keeps the most
// important results within the budget, naming the ones left out.
#include <gtest/gtest.h>

#include "slate/json_payload.h"
#include "slate/plan_task.h"
#include "util/test_pool.h"

namespace slate {
namespace {

using nlohmann::json;

class PlanTaskTest : public ::testing::Test {
 protected:
  EntryId Result(const std::string& id, float importance, const json& value) {
    NewEntry e;
    e.segment = "results";
    e.tags = {"id:" + id};
    e.importance = importance;
    e.author = "w";
    e.payload = JsonToPayload(value);
    return pool->Write(e).value();
  }
  testing::ScopedPool pool{"plantask"};
};

TEST_F(PlanTaskTest, AStubRoundTrips) {
  PlanTask t;
  t.id = "ship";
  t.payload = {{"x", 1}};
  t.iteration = 2;
  t.feedback = json::array({{{"iteration", 1}, {"feedback", "more"}}});
  t.context_bytes = 77;
  t.after = {3, 1};
  auto sut = DecodePlanTask(EncodePlanTask(t));
  ASSERT_TRUE(sut.ok()) << sut.status().message();
  EXPECT_EQ(sut->id, t.id);
  EXPECT_EQ(sut->payload, t.payload);
  EXPECT_EQ(sut->iteration, 2u);
  EXPECT_EQ(sut->feedback, t.feedback);
  EXPECT_EQ(sut->context_bytes, 77u);
  EXPECT_EQ(sut->after, t.after);
  EXPECT_TRUE(sut->deps.empty());
  EXPECT_FALSE(DecodePlanTask(JsonToPayload({{"payload", 1}})).ok());
  EXPECT_FALSE(DecodePlanTask(JsonToPayload("text")).ok());
}

TEST_F(PlanTaskTest, TheEnvelopeCarriesEveryResultWhenTheyFit) {
  PlanTask t;
  t.id = "ship";
  t.payload = 4;
  t.deps = {Result("api", 0.5f, {{"v", 3}}), Result("web", 0.5f, "page")};
  auto sut = BuildEnvelope(*pool, t);
  ASSERT_TRUE(sut.ok()) << sut.status().message();
  EXPECT_EQ((*sut)["id"], "ship");
  EXPECT_EQ((*sut)["payload"], 4);
  EXPECT_EQ((*sut)["iteration"], 1);
  EXPECT_EQ((*sut)["feedback"], json::array());
  EXPECT_EQ((*sut)["context"], json({{"api", {{"v", 3}}}, {"web", "page"}}));
  EXPECT_FALSE(sut->contains("context_omitted"));
}

TEST_F(PlanTaskTest, PastTheBudgetTheLeastImportantAreLeftOutDeterministically) {
  PlanTask t;
  // Each member costs its "key":value text plus one: "aN":"xxxxxxxx" is 16.
  t.deps = {Result("a1", 0.2f, "xxxxxxxx"), Result("a2", 0.9f, "xxxxxxxx"),
            Result("a3", 0.5f, "xxxxxxxx"), Result("a4", 0.5f, "xxxxxxxx")};
  t.context_bytes = 16 * 3 - 1;  // two fit
  auto sut = BuildEnvelope(*pool, t);
  ASSERT_TRUE(sut.ok());
  // a2 (0.9) first, then a3 before a4 (equal importance: depends_on order).
  EXPECT_EQ((*sut)["context"], json({{"a2", "xxxxxxxx"}, {"a3", "xxxxxxxx"}}));
  EXPECT_EQ((*sut)["context_omitted"], json({"a1", "a4"}));
  EXPECT_EQ(BuildEnvelope(*pool, t).value(), *sut);
  t.context_bytes = 0;
  EXPECT_EQ(BuildEnvelope(*pool, t).value()["context_omitted"].size(), 4u);
}

TEST_F(PlanTaskTest, AResultGoneFromThePoolIsAnErrorNotAPartialContext) {
  PlanTask t;
  t.deps = {Result("a", 0.5f, 1), 999'999};
  auto sut = BuildEnvelope(*pool, t);
  EXPECT_EQ(sut.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sut.status().message().find("dependency 2"), std::string::npos);
}

TEST_F(PlanTaskTest, APlanResultNamesItsLine) {
  PlanTask t;
  EXPECT_TRUE(PlanResultTags(t).empty());
  t.id = "a";
  EXPECT_EQ(PlanResultTags(t), std::vector<std::string>{"id:a"});
  t.validates = 5;  // a verdict is nobody's context
  EXPECT_EQ(PlanResultTags(t), std::vector<std::string>{"validate"});
}

TEST_F(PlanTaskTest, FeedbackRoundsCarryTheResultsTheyRejected) {
  PlanTask t;
  t.id = "a";
  t.iteration = 3;
  t.feedback = json::array({{{"iteration", 1}, {"feedback", "short"}, {"result_id", Result("a", 0.5f, "v1")}},
                            {{"iteration", 2}, {"feedback", "use x"}, {"by", "review"}}});
  auto sut = BuildEnvelope(*pool, t);
  ASSERT_TRUE(sut.ok()) << sut.status().message();
  EXPECT_EQ((*sut)["feedback"],
            json::parse(R"([{"iteration":1,"feedback":"short","result":"v1"},
                            {"iteration":2,"feedback":"use x","by":"review"}])"));
  EXPECT_FALSE(sut->contains("result"));
  t.validates = Result("a", 0.5f, {{"draft", 3}});
  EXPECT_EQ(BuildEnvelope(*pool, t).value()["result"], json({{"draft", 3}}));
  auto stub = DecodePlanTask(EncodePlanTask(t));
  ASSERT_TRUE(stub.ok());
  EXPECT_EQ(stub->validates, t.validates);
  t.feedback[0]["result_id"] = 999'999;
  EXPECT_EQ(BuildEnvelope(*pool, t).status().code(), StatusCode::kNotFound);
}

TEST_F(PlanTaskTest, OnlyAnOkOrAnOkFalseWithFeedbackIsAVerdict) {
  EXPECT_TRUE(ParseVerdict(json::parse(R"({"ok": true})"))->ok);
  auto no = ParseVerdict(json::parse(R"({"ok": false, "feedback": "more"})"));
  ASSERT_TRUE(no.ok());
  EXPECT_FALSE(no->ok);
  EXPECT_EQ(no->feedback, "more");
  for (const char* bad : {R"("looks fine")", R"({"ok": "yes"})", R"({"ok": false})",
                          R"({"ok": false, "feedback": 3})", R"([true])", R"("")"}) {
    auto v = ParseVerdict(json::parse(bad));
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(v.status().message().find("the validator printed"), std::string::npos) << bad;
  }
  EXPECT_NE(ParseVerdict(json("")).status().message().find("printed nothing"), std::string::npos);
  EXPECT_EQ(VerdictJson({false, "x"}), json({{"ok", false}, {"feedback", "x"}}));
  EXPECT_EQ(VerdictJson({true, ""}), json({{"ok", true}}));
}

}  // namespace
}  // namespace slate
