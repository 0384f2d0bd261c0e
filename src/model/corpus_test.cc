// Data-driven schema tests: testdata/<kind>-valid.yaml documents must decode cleanly;
// every document of testdata/<kind>-invalid.yaml carries `_err:` with the exact
// "path: message" it must be refused with, and nothing else.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>

#include "base/file_io.h"
#include "model/decoder.h"

namespace weft::model {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpusFiles(std::string_view suffix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(WEFT_MODEL_TESTDATA)) {
    std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(SchemaCorpus, ValidDocumentsDecode) {
  size_t documents = 0;
  for (const auto& file : corpusFiles("-valid.yaml")) {
    auto result = decodeYaml(*readFile(file), file.filename().string(), {});
    for (const auto& e : result.errors) ADD_FAILURE() << e;
    documents += result.objects.size();
  }
  EXPECT_GT(documents, 0u);
}

TEST(SchemaCorpus, InvalidDocumentsFailWithTheirExactError) {
  size_t documents = 0;
  for (const auto& file : corpusFiles("-invalid.yaml")) {
    auto docs = readYamlDocuments(*readFile(file), file.filename().string());
    ASSERT_TRUE(docs) << docs.error().message;
    for (auto& doc : *docs) {
      ++documents;
      auto& obj = doc.value.get_object();
      ASSERT_TRUE(obj.contains("_err")) << file << ":" << doc.start.line << ": document has no _err";
      std::string expected(obj.at("_err").get_string());
      obj.erase("_err");
      std::string where = fmt::format("{}:{}", file.filename().string(), doc.start.line);
      auto result = decodeDocument(std::move(doc), {});
      if (result.errors.size() != 1) {
        ADD_FAILURE() << where << ": expected exactly one error \"" << expected << "\", got " << result.errors.size() << ":\n"
                      << fmt::format("{}", fmt::join(result.errors, "\n"));
        continue;
      }
      // Strip "file:line:column: " to compare the path and message.
      const std::string& got = result.errors.front();
      auto at = got.find(": ");
      std::string pathAndMessage = at == std::string::npos ? got : got.substr(at + 2);
      EXPECT_EQ(pathAndMessage, expected) << where;
    }
  }
  EXPECT_GT(documents, 0u);
}

}  // namespace
}  // namespace weft::model
