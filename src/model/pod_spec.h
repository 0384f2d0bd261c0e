#pragma once
// The PodSpec schema, shared by Pod and by the pod templates of Deployment and DaemonSet.

#include "model/schema.h"

namespace weft::model {

SchemaPtr podSpecSchema();
SchemaPtr podTemplateSchema();  // {metadata: {labels, annotations, name}, spec: PodSpec}

}  // namespace weft::model
