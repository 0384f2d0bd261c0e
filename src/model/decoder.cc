#include "model/decoder.h"

#include <boost/json.hpp>

#include <map>
#include <mutex>

#include "base/k8s_names.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// Kinds whose names are DNS-1123 labels rather than subdomains (they become DNS labels).
bool nameIsLabel(const KindInfo& info) { return info.group.empty() && (info.kind == "Namespace" || info.kind == "Service"); }

SchemaPtr buildMetadataSchema(SchemaPtr nameSchema) {
  return object()
      .field("name", std::move(nameSchema))
      .field("generateName", str())
      .field("namespace", dns1123Label())
      .field("labels", labelMap())
      .field("annotations", annotationMap())
      .field("uid", str())
      .field("resourceVersion", str())
      .field("generation", integer(0, INT64_MAX))
      .field("creationTimestamp", anyValue())
      .field("deletionTimestamp", anyValue())
      .field("deletionGracePeriodSeconds", integer(0, INT64_MAX))
      .field("ownerReferences", listOf(object().preserveUnknownFields()))
      .field("finalizers", listOf(str()))
      .field("managedFields", anyValue())
      .check([](const Site& meta) {
        if (!isSet(meta.value, "name")) meta.fieldError("name", "required value is missing");
      });
}

// Built once: decoding runs per document, thousands of times in one apply.
const Schema& metadataSchema(const KindInfo& info) {
  static const SchemaPtr labelNamed = buildMetadataSchema(dns1123Label());
  static const SchemaPtr subdomainNamed = buildMetadataSchema(dns1123Subdomain());
  return nameIsLabel(info) ? *labelNamed : *subdomainNamed;
}

// The kind's body schema plus apiVersion, kind and metadata (checked on their own above),
// so a document is validated in place rather than copied without those three fields.
// Built once per kind.
const Schema& documentSchema(const KindInfo& info) {
  static std::mutex mutex;
  static std::map<const KindInfo*, SchemaPtr> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& schema = cache[&info];
  if (!schema) {
    auto whole = std::make_shared<Schema>(*info.body);
    for (const char* field : {"apiVersion", "kind", "metadata"}) whole->fields.push_back({field, anyValue(), false});
    schema = whole;
  }
  return *schema;
}

// istioctl reads an IstioOperator without a name (it names only the copy it records,
// installed-state), so a missing name takes that one instead of being refused.
void defaultIstioOperatorName(const KindInfo& info, json::object& document) {
  if (info.group != "install.istio.io" || info.kind != "IstioOperator") return;
  auto& meta = document["metadata"];
  if (meta.is_null()) meta = json::object();
  if (!meta.is_object()) return;  // reported with the other metadata errors
  const auto* name = meta.get_object().if_contains("name");
  if (name == nullptr || name->is_null()) meta.get_object()["name"] = "installed-state";
}

}  // namespace

std::string formatFieldError(const std::string& file, const FieldError& error) {
  std::string where = error.position.line > 0 ? fmt::format("{}:{}:{}", file, error.position.line, error.position.column) : file;
  if (error.path.empty()) return fmt::format("{}: {}", where, error.message);
  return fmt::format("{}: {}: {}", where, error.path, error.message);
}

DecodeResult decodeDocument(Document document, const DecodeOptions& options) {
  DecodeResult result;
  auto fail = [&](std::string path, std::string pointer, std::string message) {
    FieldError e{document.positions.at(pointer), std::move(path), std::move(message)};
    if (e.position.line == 0) e.position = document.start;
    result.errors.push_back(formatFieldError(document.file, e));
    return result;
  };
  if (!document.value.is_object()) return fail("", "", "a document must be a mapping with apiVersion, kind and metadata");
  auto& obj = document.value.get_object();
  const auto* apiVersion = obj.if_contains("apiVersion");
  const auto* kind = obj.if_contains("kind");
  if (apiVersion == nullptr || !apiVersion->is_string() || apiVersion->get_string().empty()) {
    return fail("apiVersion", "/apiVersion", "required value is missing");
  }
  if (kind == nullptr || !kind->is_string() || kind->get_string().empty()) return fail("kind", "/kind", "required value is missing");
  const KindInfo* info = findKind(std::string_view(apiVersion->get_string()), std::string_view(kind->get_string()));
  if (info == nullptr) {
    return fail("kind", "/kind", fmt::format("no matches for kind \"{}\" in version \"{}\"", std::string_view(kind->get_string()),
                                             std::string_view(apiVersion->get_string())));
  }

  defaultIstioOperatorName(*info, obj);

  // Namespace defaulting happens before validation so the error for a conflict points at
  // the document's own namespace field.
  std::string defaultNs = options.ns.empty() ? "default" : options.ns;
  if (auto* meta = obj.if_contains("metadata"); meta && meta->is_object()) {
    auto& metaObj = meta->get_object();
    const auto* nsField = metaObj.if_contains("namespace");
    if (!info->namespaced) {
      metaObj.erase("namespace");
    } else if (nsField == nullptr || nsField->is_null() || (nsField->is_string() && nsField->get_string().empty())) {
      metaObj["namespace"] = defaultNs;
    } else if (options.nsExplicit && nsField->is_string() && nsField->get_string() != defaultNs) {
      return fail("metadata.namespace", "/metadata/namespace",
                  fmt::format("the namespace from the provided object \"{}\" does not match the namespace \"{}\"",
                              std::string_view(nsField->get_string()), defaultNs));
    }
  } else if (obj.contains("metadata") && !obj.at("metadata").is_null()) {
    return fail("metadata", "/metadata", fmt::format("must be an object, not {}", describeJsonType(obj.at("metadata"))));
  } else {
    return fail("metadata.name", "/metadata", "required value is missing");
  }

  std::vector<FieldError> errors;
  Reporter reporter(document.positions, errors);
  Site root{document.value, "", "", reporter};
  metadataSchema(*info).validate(root.child("metadata"));
  documentSchema(*info).validate(root);
  for (const auto& e : errors) result.errors.push_back(formatFieldError(document.file, e));
  if (!result.errors.empty()) return result;

  auto source = std::make_shared<Document>(std::move(document));
  result.objects.emplace_back(info, source->value, source);
  return result;
}

DecodeResult decodeYaml(std::string_view text, const std::string& file, const DecodeOptions& options) {
  DecodeResult result;
  auto documents = readYamlDocuments(text, file);
  if (!documents) {
    result.errors.push_back(documents.error().message);
    return result;
  }
  for (auto& document : *documents) {
    auto decoded = decodeDocument(std::move(document), options);
    for (auto& o : decoded.objects) result.objects.push_back(std::move(o));
    for (auto& e : decoded.errors) result.errors.push_back(std::move(e));
  }
  return result;
}

}  // namespace weft::model
