#pragma once
// Kubernetes name syntax (apimachinery's validation rules), shared by the certificate
// tooling (namespace and service account in a SPIFFE ID) and the object model.

#include <optional>
#include <string>
#include <string_view>

namespace weft {

// RFC 1123 label: at most 63 of [a-z0-9-], starting and ending alphanumeric.
// Returns why `name` is not one, or nullopt when it is.
std::optional<std::string> checkDns1123Label(std::string_view name);

// RFC 1123 subdomain: at most 253 characters, dot-separated RFC 1123 labels.
std::optional<std::string> checkDns1123Subdomain(std::string_view name);

}  // namespace weft
