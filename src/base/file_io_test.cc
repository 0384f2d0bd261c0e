#include "base/file_io.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace weft {
namespace {

namespace fs = std::filesystem;

class FileIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("weft-file-io-{}-{}", ::getpid(),
                                                   ::testing::UnitTest::GetInstance()->random_seed());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileIoTest, WritesAndReadsBack) {
  ASSERT_TRUE(writeFileAtomically(dir_ / "a" / "b.txt", "hello"));
  auto text = readFile(dir_ / "a" / "b.txt");
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "hello");
}

TEST_F(FileIoTest, AppliesModeDespiteUmask) {
  ASSERT_TRUE(writeFileAtomically(dir_ / "key.pem", "secret", 0600));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FileIoTest, LeavesNoTemporaryFiles) {
  ASSERT_TRUE(writeFilesAtomically({{dir_ / "one", "1"}, {dir_ / "two", "2"}}));
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++count;
  EXPECT_EQ(count, 2);
}

TEST_F(FileIoTest, FailureInAGroupWritesNothing) {
  // The second target's parent is a regular file, so its directory cannot be created.
  ASSERT_TRUE(writeFileAtomically(dir_ / "blocker", "x"));
  auto status = writeFilesAtomically({{dir_ / "first", "1"}, {dir_ / "blocker" / "second", "2"}});
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("blocker"), std::string::npos) << status.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "first"));
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++count;
  EXPECT_EQ(count, 1) << "only the blocker remains; no temporaries";
}

TEST_F(FileIoTest, ReplacesExistingFileWhole) {
  ASSERT_TRUE(writeFileAtomically(dir_ / "f", "old contents"));
  ASSERT_TRUE(writeFileAtomically(dir_ / "f", "new"));
  EXPECT_EQ(*readFile(dir_ / "f"), "new");
}

TEST_F(FileIoTest, ReadErrorsNameTheFile) {
  auto missing = readFile(dir_ / "nope.pem");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, (dir_ / "nope.pem").string() + ": cannot open: No such file or directory");
  auto directory = readFile(dir_);
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().message.find("is a directory"), std::string::npos);
}

}  // namespace
}  // namespace weft
