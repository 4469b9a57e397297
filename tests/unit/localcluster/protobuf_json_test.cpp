// Kubernetes protobuf bodies decoded to JSON, from bytes built here by a small encoder that follows
// the protobuf wire format (kubectl's real bodies are covered by the kubectl e2e of create token and
// create job --from).
#include <gtest/gtest.h>

#include "e2e/localcluster/protobuf_json.h"

namespace sdb::localcluster {
namespace {

std::string varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string bytesField(int number, const std::string& data) { return varint(static_cast<uint64_t>(number) << 3 | 2) + varint(data.size()) + data; }
std::string varintField(int number, uint64_t v) { return varint(static_cast<uint64_t>(number) << 3) + varint(v); }
std::string envelope(const std::string& apiVersion, const std::string& kind, const std::string& raw) {
  return std::string("k8s\0", 4) + bytesField(1, bytesField(1, apiVersion) + bytesField(2, kind)) + bytesField(2, raw);
}

TEST(ProtobufJson, TokenRequestWithZeroStatusAndPointerZero) {
  const std::string zeroTime = varintField(1, 0) + varintField(2, 0);
  const std::string spec = bytesField(1, "aud-a") + bytesField(1, "aud-b") + varintField(4, 600) +
                           bytesField(3, bytesField(1, "Pod") + bytesField(3, "p") + bytesField(4, "uid-1"));
  const std::string raw = bytesField(1, bytesField(1, "robot") + bytesField(2, "") + bytesField(8, zeroTime)) + bytesField(2, spec) +
                          bytesField(3, bytesField(2, zeroTime));  // status {expirationTimestamp: zero}
  auto j = protobufToJson(envelope("authentication.k8s.io/v1", "TokenRequest", raw));
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(*j, (Json{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"},
                      {"metadata", {{"name", "robot"}}},
                      {"spec", {{"audiences", {"aud-a", "aud-b"}}, {"expirationSeconds", 600},
                                {"boundObjectRef", {{"kind", "Pod"}, {"name", "p"}, {"uid", "uid-1"}}}}}}))
      << j->dump();
}

TEST(ProtobufJson, SecretMapsInlinedFieldsIntOrStringAndPointerScalars) {
  auto secret = protobufToJson(envelope("v1", "Secret", bytesField(1, bytesField(1, "s")) + bytesField(2, bytesField(1, "k") + bytesField(2, "v\x01"))));
  ASSERT_TRUE(secret.ok()) << secret.error().message;
  EXPECT_EQ((*secret)["data"]["k"], "dgE=");  // bytes become base64, as in JSON
  // Volume.volumeSource is inlined; SecretVolumeSource.optional is a pointer: false is kept.
  const std::string volume = bytesField(1, "cfg") + bytesField(2, bytesField(6, bytesField(1, "s") + varintField(4, 0) + varint(4 << 3) + varint(0)));
  const std::string probe = bytesField(1, bytesField(3, bytesField(1, varintField(1, 1) + bytesField(3, "pg")))) + varintField(4, 3);
  const std::string container = bytesField(1, "c") + bytesField(2, "postgres:15") + bytesField(11, probe);
  const std::string podSpec = bytesField(1, volume) + bytesField(2, container);
  const std::string job = bytesField(1, bytesField(1, "j")) + bytesField(2, bytesField(6, bytesField(2, podSpec)));
  auto j = protobufToJson(envelope("batch/v1", "Job", job));
  ASSERT_TRUE(j.ok()) << j.error().message;
  const Json& spec = (*j)["spec"]["template"]["spec"];
  EXPECT_EQ(spec["volumes"][0], (Json{{"name", "cfg"}, {"secret", {{"secretName", "s"}, {"optional", false}}}})) << j->dump();
  EXPECT_EQ(spec["containers"][0]["readinessProbe"], (Json{{"tcpSocket", {{"port", "pg"}}}, {"periodSeconds", 3}})) << j->dump();
}

// `kubectl create job --from=cronjob/x` of a backup CronJob (specs/backup_job.h): podFailurePolicy
// with exit codes, the repeated int32 unpacked as Go's generated code writes it, and packed.
TEST(ProtobufJson, JobPodFailurePolicyOnExitCodes) {
  for (bool packed : {false, true}) {
    const std::string values = packed ? bytesField(3, varint(2) + varint(3)) : varintField(3, 2) + varintField(3, 3);
    const std::string onExit = bytesField(1, "backup") + bytesField(2, "In") + values;
    const std::string onCondition = bytesField(1, "DisruptionTarget") + bytesField(2, "True");
    const std::string policy = bytesField(1, bytesField(1, "FailJob") + bytesField(2, onExit)) +
                               bytesField(1, bytesField(1, "Ignore") + bytesField(3, onCondition));
    const std::string container = bytesField(1, "backup") + bytesField(2, "op:1");
    const std::string spec = varintField(7, 2) + bytesField(6, bytesField(2, bytesField(2, container) + bytesField(3, "Never"))) +
                             bytesField(11, policy);
    auto j = protobufToJson(envelope("batch/v1", "Job", bytesField(1, bytesField(1, "b1")) + bytesField(2, spec)));
    ASSERT_TRUE(j.ok()) << j.error().message;
    EXPECT_EQ((*j)["spec"]["podFailurePolicy"],
              (Json{{"rules", {{{"action", "FailJob"}, {"onExitCodes", {{"containerName", "backup"}, {"operator", "In"}, {"values", {2, 3}}}}},
                               {{"action", "Ignore"}, {"onPodConditions", {{{"type", "DisruptionTarget"}, {"status", "True"}}}}}}}}))
        << j->dump();
    EXPECT_EQ((*j)["spec"]["backoffLimit"], 2);
  }
}

TEST(ProtobufJson, WhatItCannotReadIsRefusedByName) {
  EXPECT_FALSE(protobufToJson("{\"kind\":\"Secret\"}").ok());
  auto unknownKind = protobufToJson(envelope("apps/v1", "Deployment", ""));
  ASSERT_FALSE(unknownKind.ok());
  EXPECT_NE(unknownKind.error().message.find("Deployment"), std::string::npos);
  // VolumeSource.nfs (7) carries content: refused, naming the field.
  const std::string nfs = bytesField(1, bytesField(1, "j")) +
                          bytesField(2, bytesField(6, bytesField(2, bytesField(1, bytesField(1, "v") + bytesField(2, bytesField(7, bytesField(1, "server")))))));
  auto refused = protobufToJson(envelope("batch/v1", "Job", nfs));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("VolumeSource.nfs"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace sdb::localcluster
