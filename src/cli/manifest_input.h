#pragma once
// The -f arguments of apply and delete: files, directories (their .yaml, .yml and .json
// files) and "-" for standard input, decoded together so one error anywhere stops all.

#include <string>
#include <vector>

#include "model/decoder.h"

namespace weft::cli {

model::DecodeResult readManifests(const std::vector<std::string>& sources, const model::DecodeOptions& options,
                                  bool recursive);

}  // namespace weft::cli
