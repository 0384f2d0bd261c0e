#pragma once
// multipart/form-data bodies as Go's Request.ParseMultipartForm reads them for go-httpbin's
// "form" and "files" fields. The whole body is already in memory (bounded by the server),
// so this is a single pass over a string_view.

#include <string_view>

#include "base/result.h"
#include "httpbin/url_values.h"

namespace weft::httpbin {

struct MultipartForm {
  Values values;  // parts without a filename: name -> contents
  Values files;   // parts with a filename: name -> contents
};

// `boundary` is the Content-Type's boundary parameter. Parts without a form-data name are
// skipped, as Go skips them. Lines may end in CRLF or, as Go also accepts, in LF.
Result<MultipartForm> parseMultipartForm(std::string_view body, std::string_view boundary);

}  // namespace weft::httpbin
