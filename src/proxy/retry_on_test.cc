#include "proxy/retry_on.h"

#include <gtest/gtest.h>

namespace weft::proxy {
namespace {

TEST(RetryOn, ItemsAreTrimmedAndComparedWhole) {
  EXPECT_TRUE(retryOnHas("5xx,connect-failure, reset", "reset"));
  EXPECT_TRUE(retryOnHas(" connect-failure ", "connect-failure"));
  EXPECT_FALSE(retryOnHas("connect-failure", "connect"));
  EXPECT_FALSE(retryOnHas("", "5xx"));
  EXPECT_FALSE(retryOnHas(",,", "5xx"));
}

TEST(RetryOn, HttpStatusConditionsAsEnvoyReadsThem) {
  EXPECT_TRUE(retriableStatus("5xx", 500));
  EXPECT_FALSE(retriableStatus("5xx", 404));
  EXPECT_TRUE(retriableStatus("gateway-error", 504));
  EXPECT_FALSE(retriableStatus("gateway-error", 500));
  EXPECT_TRUE(retriableStatus("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", 503));  // Istio's default
  EXPECT_FALSE(retriableStatus("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", 502));
}

}  // namespace
}  // namespace weft::proxy
