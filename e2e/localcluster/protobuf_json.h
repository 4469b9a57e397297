// Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) turned into the JSON the
// store takes. kubectl 1.32 and later send them for typed commands (`create serviceaccount`,
// `create token`, `create secret`, `create job --from=cronjob/x`, ...) and do not fall back to JSON
// when refused. The envelope is "k8s\0" + runtime.Unknown {typeMeta, raw}; raw is decoded with the
// schema in protobuf_schema.cpp. Kinds outside it, or fields the schema marks unsupported, are an
// error naming them (the caller answers 415), so nothing is ever half-read.
//
// Contract: pure, thread-safe (the schema is parsed once, on first use).
#pragma once

#include <string>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::localcluster {

Result<Json> protobufToJson(const std::string& body);

const char* protobufSchemaText();  // protobuf_schema.cpp

}  // namespace sdb::localcluster
