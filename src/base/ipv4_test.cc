#include "base/ipv4.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Ipv4, ParsesAndPrints) {
  auto address = Ipv4Address::parse("198.18.1.2");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->value, 0xC6120102u);
  EXPECT_EQ(address->str(), "198.18.1.2");
  EXPECT_FALSE(Ipv4Address::parse("198.18.1"));
  EXPECT_FALSE(Ipv4Address::parse("::1"));
}

TEST(Ipv4, CidrParsing) {
  auto cidr = Ipv4Cidr::parse("198.18.0.0/16");
  ASSERT_TRUE(cidr);
  EXPECT_EQ(cidr->str(), "198.18.0.0/16");
  EXPECT_EQ(cidr->size(), 65536u);
  auto notNetwork = Ipv4Cidr::parse("198.18.0.1/16");
  ASSERT_FALSE(notNetwork);
  EXPECT_EQ(notNetwork.error().message, "\"198.18.0.1/16\" is not a network address; the block it lies in is 198.18.0.0/16");
  EXPECT_FALSE(Ipv4Cidr::parse("198.18.0.0"));
  EXPECT_FALSE(Ipv4Cidr::parse("198.18.0.0/33"));
  EXPECT_FALSE(Ipv4Cidr::parse("198.18.0.0/1x"));
  EXPECT_TRUE(Ipv4Cidr::parse("0.0.0.0/0"));
}

TEST(Ipv4, ContainmentAndOverlap) {
  auto range = *Ipv4Cidr::parse("198.18.0.0/15");
  auto pods = *Ipv4Cidr::parse("198.18.0.0/16");
  auto services = *Ipv4Cidr::parse("198.19.0.0/16");
  EXPECT_TRUE(range.contains(pods));
  EXPECT_TRUE(range.contains(services));
  EXPECT_FALSE(pods.overlaps(services));
  EXPECT_TRUE(pods.overlaps(*Ipv4Cidr::parse("198.18.128.0/17")));
  EXPECT_FALSE(pods.contains(range));
  EXPECT_FALSE(range.contains(*Ipv4Cidr::parse("10.0.0.0/8")));
  EXPECT_TRUE(pods.contains(*Ipv4Address::parse("198.18.255.255")));
  EXPECT_FALSE(pods.contains(*Ipv4Address::parse("198.19.0.0")));
  EXPECT_FALSE(pods.contains(*Ipv4Address::parse("198.17.255.255")));
}

TEST(Ipv4, SubBlocks) {
  auto pods = *Ipv4Cidr::parse("198.18.0.0/16");
  EXPECT_EQ(pods.subBlock(24, 0).str(), "198.18.0.0/24");
  EXPECT_EQ(pods.subBlock(24, 2).str(), "198.18.2.0/24");
  EXPECT_EQ(pods.at(258).str(), "198.18.1.2");
}

}  // namespace
}  // namespace weft
