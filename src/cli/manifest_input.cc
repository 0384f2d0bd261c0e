#include "cli/manifest_input.h"

#include <filesystem>
#include <iostream>
#include <iterator>

#include "base/file_io.h"

namespace weft::cli {
namespace {

namespace fs = std::filesystem;

bool isManifest(const fs::path& p) { return p.extension() == ".yaml" || p.extension() == ".yml" || p.extension() == ".json"; }

void decodeInto(model::DecodeResult& all, std::string_view text, const std::string& name, const model::DecodeOptions& options) {
  auto decoded = model::decodeYaml(text, name, options);
  for (auto& o : decoded.objects) all.objects.push_back(std::move(o));
  for (auto& e : decoded.errors) all.errors.push_back(std::move(e));
}

}  // namespace

model::DecodeResult readManifests(const std::vector<std::string>& sources, const model::DecodeOptions& options, bool recursive) {
  model::DecodeResult all;
  for (const auto& source : sources) {
    if (source == "-") {
      std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      decodeInto(all, text, "<stdin>", options);
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(source, ec)) {
      std::vector<fs::path> files;
      auto collect = [&](const fs::path& p) {
        if (fs::is_regular_file(p) && isManifest(p)) files.push_back(p);
      };
      if (recursive) {
        for (const auto& e : fs::recursive_directory_iterator(source)) collect(e.path());
      } else {
        for (const auto& e : fs::directory_iterator(source)) collect(e.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) all.errors.push_back(fmt::format("{}: no .yaml, .yml or .json files", source));
      for (const auto& f : files) {
        auto text = readFile(f);
        if (!text) all.errors.push_back(text.error().message);
        else decodeInto(all, *text, f.string(), options);
      }
      continue;
    }
    auto text = readFile(source);
    if (!text) {
      all.errors.push_back(fmt::format("the path \"{}\" does not exist", source));
      continue;
    }
    decodeInto(all, *text, source, options);
  }
  return all;
}

}  // namespace weft::cli
