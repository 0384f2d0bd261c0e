#pragma once
// The spec schemas of the networking.istio.io kinds, one file per kind group
// (src/model/schemas_virtual_service.cc, ...); schemas_networking.cc registers them.

#include "model/schema.h"

namespace weft::model {

SchemaPtr virtualServiceSpecSchema();   // schemas_virtual_service.cc
SchemaPtr destinationRuleSpecSchema();  // schemas_destination_rule.cc
SchemaPtr gatewaySpecSchema();          // schemas_gateway.cc: the Istio Gateway, not the Gateway API's
SchemaPtr serviceEntrySpecSchema();     // schemas_service_entry.cc
SchemaPtr workloadEntrySpecSchema();    // schemas_service_entry.cc: also a ServiceEntry endpoint

}  // namespace weft::model
