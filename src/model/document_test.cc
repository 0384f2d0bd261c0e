#include "model/document.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace weft::model {
namespace {

TEST(ReadYamlDocuments, TypesScalarsAsTheApiServerDoes) {
  auto docs = readYamlDocuments("a: 80\nb: \"80\"\nc: true\nd: 'true'\ne: 1.5\nf: ~\ng: hello\nh: 0x1F\ni:\n", "t.yaml");
  ASSERT_TRUE(docs) << docs.error().message;
  ASSERT_EQ(docs->size(), 1u);
  const auto& o = (*docs)[0].value.get_object();
  EXPECT_EQ(o.at("a"), boost::json::value(80));
  EXPECT_EQ(o.at("b"), boost::json::value("80"));
  EXPECT_EQ(o.at("c"), boost::json::value(true));
  EXPECT_EQ(o.at("d"), boost::json::value("true"));
  EXPECT_EQ(o.at("e"), boost::json::value(1.5));
  EXPECT_TRUE(o.at("f").is_null());
  EXPECT_EQ(o.at("g"), boost::json::value("hello"));
  EXPECT_EQ(o.at("h"), boost::json::value(31));
  EXPECT_TRUE(o.at("i").is_null());
}

TEST(ResolvePlainScalar, CoreSchema) {
  using boost::json::value;
  EXPECT_EQ(resolvePlainScalar("42"), value(42));
  EXPECT_EQ(resolvePlainScalar("-7"), value(-7));
  EXPECT_EQ(resolvePlainScalar("+7"), value(7));
  EXPECT_EQ(resolvePlainScalar("0o17"), value(15));
  EXPECT_EQ(resolvePlainScalar("0x1f"), value(31));
  EXPECT_EQ(resolvePlainScalar("0644"), value(420)) << "YAML 1.1 octal, as kubectl reads defaultMode";
  EXPECT_EQ(resolvePlainScalar("0"), value(0));
  EXPECT_EQ(resolvePlainScalar("089"), value(89)) << "not octal digits: decimal";
  EXPECT_EQ(resolvePlainScalar("1e3"), value(1000.0));
  EXPECT_EQ(resolvePlainScalar("1."), value(1.0));
  EXPECT_EQ(resolvePlainScalar(".5"), value(0.5));
  EXPECT_EQ(resolvePlainScalar("-1.5E-1"), value(-0.15));
  for (const char* s : {"1_000", "-0x1", "0x", "1e", "e3", ".", "1.2.3", "v1", "1h", "yes", "+-1", "99999999999999999999"}) {
    EXPECT_TRUE(resolvePlainScalar(s).is_string()) << s;
  }
  EXPECT_TRUE(resolvePlainScalar("~").is_null());
  EXPECT_EQ(resolvePlainScalar("False"), value(false));
}

TEST(ReadYamlDocuments, SplitsDocumentsAndRecordsPositions) {
  auto docs = readYamlDocuments("---\na: 1\n---\n---\nspec:\n  http:\n  - route:\n      port: 9\n", "f.yaml");
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 2u) << "the empty document is skipped";
  const auto& second = (*docs)[1];
  EXPECT_EQ(second.start.line, 5);
  auto port = second.positions.at("/spec/http/0/route/port");
  EXPECT_EQ(port.line, 8);
  EXPECT_EQ(port.column, 13);
  auto key = second.positions.keyAt("/spec/http/0/route/port");
  EXPECT_EQ(key.column, 7);
  // Unrecorded pointers fall back to their nearest ancestor.
  EXPECT_EQ(second.positions.at("/spec/http/0/route/nothing/here").line, 8);
}

TEST(ReadYamlDocuments, RefusesBrokenYamlWithPosition) {
  auto bad = readYamlDocuments("a: [1, 2\nb: 3\n", "bad.yaml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("bad.yaml:", 0), 0u) << bad.error().message;
  auto dup = readYamlDocuments("a: 1\nb: 2\na: 3\n", "dup.yaml");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "dup.yaml:3:1: duplicate field \"a\"");
  auto tag = readYamlDocuments("a: !!binary aGk=\n", "tag.yaml");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().message, "tag.yaml:1:4: unsupported YAML tag tag:yaml.org,2002:binary");
  auto key = readYamlDocuments("? [a]\n: 1\n", "key.yaml");
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("mapping keys must be strings"), std::string::npos);
}

TEST(ReadYamlDocuments, BoundsAliasExpansion) {
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c, ++prev) laughs += fmt::format("{}: &{} [*{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}]\n", c, c, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev);
  auto docs = readYamlDocuments(laughs, "laughs.yaml");
  ASSERT_FALSE(docs);
  EXPECT_NE(docs.error().message.find("more than 1000000 nodes"), std::string::npos) << docs.error().message;
}

TEST(PointerChild, EscapesPerRfc6901) {
  EXPECT_EQ(pointerChild("/metadata/labels", "istio.io/rev"), "/metadata/labels/istio.io~1rev");
  EXPECT_EQ(pointerChild("", "a~b"), "/a~0b");
  EXPECT_EQ(pointerChild("/x", size_t{3}), "/x/3");
}

}  // namespace
}  // namespace weft::model
