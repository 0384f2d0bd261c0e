#include "install/spec_overlay.h"

#include <boost/json.hpp>
#include <string>

namespace weft::install {
namespace {

namespace json = boost::json;

enum class ListMerge { kReplace, kMergeByName, kReplaceByName };

ListMerge listMergeAt(std::string_view path) {
  if (path == "components.ingressGateways" || path == "components.egressGateways") return ListMerge::kMergeByName;
  if (path == "meshConfig.extensionProviders") return ListMerge::kReplaceByName;
  return ListMerge::kReplace;
}

const json::value* nameOf(const json::value& element) {
  const auto* name = element.is_object() ? element.get_object().if_contains("name") : nullptr;
  return name != nullptr && name->is_string() ? name : nullptr;
}

void overlayList(json::array& base, const json::array& overlay, ListMerge how, const std::string& path) {
  for (const auto& element : overlay) {
    const json::value* name = nameOf(element);
    json::value* same = nullptr;
    for (auto& candidate : base) {
      const json::value* candidateName = nameOf(candidate);
      if (name != nullptr && candidateName != nullptr && *candidateName == *name) same = &candidate;
    }
    if (same == nullptr) {
      base.push_back(element);  // unnamed elements are appended; validation reports them
    } else if (how == ListMerge::kMergeByName) {
      overlaySpec(same->as_object(), element.get_object(), path);
    } else {
      *same = element;
    }
  }
}

}  // namespace

void overlaySpec(json::object& base, const json::object& overlay, std::string_view at) {
  for (const auto& entry : overlay) {
    std::string path = at.empty() ? std::string(entry.key()) : std::string(at) + "." + std::string(entry.key());
    const json::value& top = entry.value();
    if (top.is_null()) {
      base.erase(entry.key());
      continue;
    }
    json::value* below = base.if_contains(entry.key());
    if (below != nullptr && below->is_object() && top.is_object()) {
      overlaySpec(below->as_object(), top.get_object(), path);
      continue;
    }
    ListMerge how = listMergeAt(path);
    if (below != nullptr && below->is_array() && top.is_array() && how != ListMerge::kReplace) {
      overlayList(below->as_array(), top.get_array(), how, path);
      continue;
    }
    base[entry.key()] = top;
  }
}

}  // namespace weft::install
