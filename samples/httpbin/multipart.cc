#include "httpbin/multipart.h"

#include <algorithm>
#include <string>

#include "httpbin/http_message.h"
#include "httpbin/media_type.h"

namespace weft::httpbin {
namespace {

// Generous against real forms, small enough that a hostile body cannot make us loop long.
constexpr std::size_t kMaxParts = 1000;

std::string_view skipLinearWhitespace(std::string_view s) {
  while (!s.empty() && (s[0] == ' ' || s[0] == '\t')) s.remove_prefix(1);
  return s;
}

// Splits off the next line, without its line ending; false when no line ending is left.
bool nextLine(std::string_view& rest, std::string_view& line, std::string_view& ending) {
  const std::size_t lf = rest.find('\n');
  if (lf == std::string_view::npos) return false;
  line = rest.substr(0, lf);
  ending = "\n";
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
    ending = "\r\n";
  }
  rest.remove_prefix(lf + 1);
  return true;
}

struct PartHeaders {
  std::string name;     // the form-data name; parts without one are skipped
  bool isFile = false;  // a non-empty filename parameter makes the part a file
};

// The part's MIME header block up to its blank line; only Content-Disposition matters here.
Result<PartHeaders> readPartHeaders(std::string_view& rest) {
  PartHeaders part;
  std::string_view line;
  std::string_view ending;
  for (;;) {
    if (!nextLine(rest, line, ending)) return Error{"multipart: NextPart: EOF"};
    if (line.empty()) return part;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Error{"malformed MIME header line: " + std::string(line)};
    if (!equalsIgnoreCase(line.substr(0, colon), "Content-Disposition")) continue;
    auto disposition = parseMediaType(skipLinearWhitespace(line.substr(colon + 1)));
    // Go's Part.FormName ignores a disposition it cannot parse or that is not form-data.
    if (!disposition || disposition->type != "form-data") continue;
    part.name = disposition->params["name"];
    part.isFile = !disposition->params["filename"].empty();
  }
}

}  // namespace

Result<MultipartForm> parseMultipartForm(std::string_view body, std::string_view boundary) {
  if (boundary.empty()) return Error{"multipart: boundary is empty"};
  const std::string dashBoundary = "--" + std::string(boundary);

  auto isOpenDelimiter = [&](std::string_view line) {
    return line.substr(0, dashBoundary.size()) == dashBoundary &&
           skipLinearWhitespace(line.substr(dashBoundary.size())).empty();
  };
  auto isCloseDelimiter = [&](std::string_view line) {
    return line.substr(0, dashBoundary.size() + 2) == dashBoundary + "--" &&
           skipLinearWhitespace(line.substr(std::min(line.size(), dashBoundary.size() + 2))).empty();
  };

  // Preamble: lines before the first delimiter are skipped; that delimiter's line ending
  // is the one the whole body uses.
  std::string_view rest = body;
  std::string newline;
  for (;;) {
    std::string_view line;
    std::string_view ending;
    if (!nextLine(rest, line, ending)) {
      if (isCloseDelimiter(rest)) return MultipartForm{};  // the last line may lack its ending
      return Error{"multipart: NextPart: EOF"};
    }
    if (isCloseDelimiter(line)) return MultipartForm{};
    if (isOpenDelimiter(line)) {
      newline = std::string(ending);
      break;
    }
  }

  const std::string delimiter = newline + dashBoundary;
  MultipartForm form;
  for (std::size_t parts = 0;; ++parts) {
    if (parts == kMaxParts) return Error{"multipart: message too large"};
    auto headers = readPartHeaders(rest);
    if (!headers) return headers.error();

    // The content runs to the next delimiter that is followed by "--" (the last one) or by
    // optional whitespace and a line ending; a delimiter-like run inside content is content.
    std::size_t search = 0;
    std::size_t end = 0;
    bool last = false;
    for (;;) {
      end = rest.find(delimiter, search);
      if (end == std::string_view::npos) return Error{"multipart: NextPart: EOF"};
      const std::string_view after = rest.substr(end + delimiter.size());
      if (after.substr(0, 2) == "--") {
        last = true;
        break;
      }
      const std::string_view padded = skipLinearWhitespace(after);
      if (padded.substr(0, newline.size()) == newline) break;
      search = end + 1;
    }
    const std::string_view content = rest.substr(0, end);
    if (!headers->name.empty()) {
      Values& into = headers->isFile ? form.files : form.values;
      into[headers->name].emplace_back(content);
    }
    if (last) return form;
    rest.remove_prefix(end + delimiter.size());
    rest = skipLinearWhitespace(rest);
    rest.remove_prefix(newline.size());
  }
}

}  // namespace weft::httpbin
