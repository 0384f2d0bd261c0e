#pragma once
// Helpers for store tests: a fresh store in a temporary directory and objects from YAML.

#include <gtest/gtest.h>

#include <filesystem>

#include "model/decoder.h"
#include "store/local_store.h"

namespace weft::store::testing {

inline std::vector<model::Object> objectsFrom(std::string_view yaml, std::string ns = "") {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {.ns = ns});
  EXPECT_TRUE(decoded.ok()) << (decoded.errors.empty() ? "" : decoded.errors.front());
  return decoded.objects;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            fmt::format("weft-store-{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    auto opened = LocalStore::open(root_, fixedClock(std::chrono::sys_days{std::chrono::year{2026} / 11 / 27}));
    ASSERT_TRUE(opened) << opened.error().message;
    store_.emplace(std::move(opened.value()));
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  std::optional<LocalStore> store_;
};

}  // namespace weft::store::testing
