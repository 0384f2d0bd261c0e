#include "localcluster/image_catalog.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace weft::localcluster {
namespace {

namespace json = boost::json;

json::value container(std::string_view yamlLikeJson) { return json::parse(yamlLikeJson); }

TEST(ImageCatalog, RepositoryDropsRegistryTagAndDigest) {
  EXPECT_EQ(imageRepository("docker.io/mccutchen/go-httpbin:v2.15.0"), "mccutchen/go-httpbin");
  EXPECT_EQ(imageRepository("kong/httpbin"), "kong/httpbin");
  EXPECT_EQ(imageRepository("localhost:5000/kong/httpbin:1"), "kong/httpbin");
  EXPECT_EQ(imageRepository("curlimages/curl@sha256:abcd"), "curlimages/curl");
  EXPECT_EQ(imageRepository("docker.io/library/busybox:1.36"), "busybox");
}

TEST(ImageCatalog, SampleImagesRunWeftPrograms) {
  auto httpbin = resolveContainerCommand(container(R"({"image":"docker.io/mccutchen/go-httpbin:v2.15.0"})"), "/bin");
  // /bin/weft-httpbin does not exist here: the program dir is checked like any path.
  EXPECT_FALSE(httpbin.runnable());
  EXPECT_EQ(httpbin.reason, "RunContainerError");
  EXPECT_EQ(httpbin.message, "exec: \"/bin/weft-httpbin\": no such executable");
  // A command replaces the image's program, found through PATH.
  auto kong = resolveContainerCommand(container(R"({"image":"kong/httpbin","command":["sleep"]})"), "/nowhere");
  ASSERT_TRUE(kong.runnable());
  ASSERT_EQ(kong.argv.size(), 1u);
  EXPECT_TRUE(kong.argv[0].ends_with("/sleep")) << kong.argv[0];
}

TEST(ImageCatalog, CurlSleepsSoPeopleCanExec) {
  auto curl = resolveContainerCommand(container(R"({"image":"curlimages/curl:8.1.0"})"), "/nowhere");
  ASSERT_TRUE(curl.runnable()) << curl.message;
  EXPECT_EQ(curl.argv, (std::vector<std::string>{"/bin/sleep", "infinity"}));
}

TEST(ImageCatalog, CommandAndArgsFollowKubernetes) {
  auto c = resolveContainerCommand(container(R"({"image":"anything","command":["/bin/sh","-c"],"args":["echo hi"]})"), "/x");
  ASSERT_TRUE(c.runnable());
  EXPECT_EQ(c.argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  auto argsOnly = resolveContainerCommand(container(R"({"image":"curlimages/curl","args":["3600"]})"), "/x");
  ASSERT_TRUE(argsOnly.runnable());
  EXPECT_EQ(argsOnly.argv, (std::vector<std::string>{"/bin/sleep", "3600"})) << "args replace the image's default args";
}

TEST(ImageCatalog, UnknownImagesAndMissingCommandsSaySo) {
  auto unknown = resolveContainerCommand(container(R"({"image":"nginx:1.25"})"), "/x");
  EXPECT_FALSE(unknown.runnable());
  EXPECT_EQ(unknown.reason, "ErrImagePull");
  EXPECT_NE(unknown.message.find("image \"nginx:1.25\" cannot run on the local cluster"), std::string::npos);
  EXPECT_NE(unknown.message.find("mccutchen/go-httpbin"), std::string::npos);
  auto missing = resolveContainerCommand(container(R"({"image":"x","command":["no-such-binary-here"]})"), "/x");
  EXPECT_EQ(missing.reason, "RunContainerError");
  EXPECT_EQ(missing.message, "exec: \"no-such-binary-here\": executable file not found in $PATH");
}

}  // namespace
}  // namespace weft::localcluster
