#include "localcluster/container_env.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "localcluster/test_objects.h"

namespace weft::localcluster {
namespace {

namespace json = boost::json;

const char* kPod = R"(
apiVersion: v1
kind: Pod
metadata: {name: app-1, namespace: shop, uid: u-1, labels: {app: shop}}
spec:
  nodeName: c-worker
  serviceAccountName: shop
  containers:
  - name: app
    image: x
    env:
    - {name: PLAIN, value: hello}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: FROM_CM, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}
    - {name: OPTIONAL, valueFrom: {secretKeyRef: {name: creds, key: absent, optional: true}}}
)";

EnvSourceLookup lookup() {
  return [](const std::string& kind, const std::string& ns, const std::string& name, const std::string& key) -> std::optional<std::string> {
    if (kind == "ConfigMap" && ns == "shop" && name == "settings" && key == "mode") return "fast";
    return std::nullopt;
  };
}

TEST(ContainerEnv, ResolvesValuesAndFieldRefs) {
  auto pod = testing::object(kPod);
  const auto& container = pod.value().at("spec").at("containers").at(0);
  auto env = containerEnv(pod, container, {"198.18.1.2", "198.18.0.3", "app-1"}, lookup());
  ASSERT_TRUE(env) << env.error().message;
  std::vector<std::string> expected{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                    "HOSTNAME=app-1",
                                    "HOME=/root",
                                    "PLAIN=hello",
                                    "POD_NAME=app-1",
                                    "POD_NS=shop",
                                    "POD_IP=198.18.1.2",
                                    "NODE=c-worker",
                                    "SA=shop",
                                    "APP=shop",
                                    "FROM_CM=fast",
                                    "OPTIONAL="};
  EXPECT_EQ(*env, expected);
}

TEST(ContainerEnv, MissingSourcesAreConfigErrors) {
  auto pod = testing::object(R"(
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  containers:
  - name: app
    image: x
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}]
)");
  auto env = containerEnv(pod, pod.value().at("spec").at("containers").at(0), {}, lookup());
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message, "env TOKEN: couldn't find key token in Secret shop/creds");
}

}  // namespace
}  // namespace weft::localcluster
