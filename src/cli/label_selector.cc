#include "cli/label_selector.h"

namespace weft::cli {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<LabelSelector> parseLabelSelector(std::string_view text) {
  LabelSelector selector;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string term = trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (term.empty()) return makeError("unable to parse requirement: found '', expected: identifier");
    LabelRequirement r;
    if (auto at = term.find("!="); at != std::string::npos) {
      r = {trim(term.substr(0, at)), LabelRequirement::Op::kNotEquals, trim(term.substr(at + 2))};
    } else if (auto eq = term.find("=="); eq != std::string::npos) {
      r = {trim(term.substr(0, eq)), LabelRequirement::Op::kEquals, trim(term.substr(eq + 2))};
    } else if (auto single = term.find('='); single != std::string::npos) {
      r = {trim(term.substr(0, single)), LabelRequirement::Op::kEquals, trim(term.substr(single + 1))};
    } else if (term.front() == '!') {
      r = {trim(term.substr(1)), LabelRequirement::Op::kNotExists, ""};
    } else {
      r = {term, LabelRequirement::Op::kExists, ""};
    }
    if (r.key.empty()) return makeError("unable to parse requirement \"{}\": a label key is required", term);
    if (r.key.find_first_of(" ()") != std::string::npos) {
      return makeError("unable to parse requirement \"{}\": set-based selectors (in, notin) are not supported yet", term);
    }
    selector.requirements.push_back(std::move(r));
  }
  return selector;
}

bool LabelSelector::matches(const model::Object& object) const {
  for (const auto& r : requirements) {
    const auto* value = object.labels().if_contains(r.key);
    bool present = value != nullptr && value->is_string();
    std::string_view actual = present ? std::string_view(value->get_string()) : std::string_view();
    switch (r.op) {
      case LabelRequirement::Op::kEquals:
        if (!present || actual != r.value) return false;
        break;
      case LabelRequirement::Op::kNotEquals:
        if (present && actual == r.value) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (!present) return false;
        break;
      case LabelRequirement::Op::kNotExists:
        if (present) return false;
        break;
    }
  }
  return true;
}

}  // namespace weft::cli
