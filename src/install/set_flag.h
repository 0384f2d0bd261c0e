#pragma once
// istioctl's `--set path=value`: one assignment into an IstioOperator spec.
//
//   meshConfig.trustDomain=acme.local              a field, created with its parents
//   components.ingressGateways[0].enabled=true     a list element by index (past the end appends)
//   components.ingressGateways[name:foo].enabled=1 a list element by one of its fields
//   spec.values.global.proxy.logLevel=debug        the "spec." prefix is optional
//
// Values are typed as istioctl types them: an integer, else a number, else a boolean
// (Go's strconv.ParseBool: true/false/True/TRUE/t/f...), else a string in which "\," reads
// as ",". Fields istioctl keeps as strings (proxyMetadata values, compatibilityVersion)
// stay strings.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace weft::install {

Status applySetFlag(boost::json::object& spec, std::string_view pathEqualsValue);

// The text the last of `flags` assigns to `path` ("profile"; "spec." prefixes ignored), when
// one does. Flags without '=' are skipped: applySetFlag reports them.
std::optional<std::string> lastSetFlagValue(const std::vector<std::string>& flags, std::string_view path);

// The typed value of `--set`'s right-hand side (exposed for tests).
boost::json::value parseSetValue(std::string_view text);

}  // namespace weft::install
