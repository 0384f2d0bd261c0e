#include "model/gateway_names.h"

#include <gtest/gtest.h>

namespace weft::model {
namespace {

TEST(GatewayNames, ResolvesEveryFormIstiodAccepts) {
  EXPECT_EQ(resolveGatewayName("mesh", "bookinfo"), "mesh");
  EXPECT_EQ(resolveGatewayName("bookinfo-gateway", "bookinfo"), "bookinfo/bookinfo-gateway");
  EXPECT_EQ(resolveGatewayName("istio-system/global-ingress", "bookinfo"), "istio-system/global-ingress");
  EXPECT_EQ(resolveGatewayName("global-ingress.istio-system.svc.cluster.local", "bookinfo"), "istio-system/global-ingress");
  EXPECT_EQ(resolveGatewayName("global-ingress.istio-system", "bookinfo"), "istio-system/global-ingress");
}

}  // namespace
}  // namespace weft::model
