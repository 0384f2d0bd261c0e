#pragma once
// A component's `k8s` block (IstioOperator KubernetesResourcesSpec) applied to the objects
// Weft renders for it, as istioctl applies it to the charts' objects.
//
// Applied: replicaCount, strategy (Deployments), env (replacing entries of the same name),
// resources, imagePullPolicy, readinessProbe, volumeMounts (the component's container);
// nodeSelector, affinity, tolerations, priorityClassName, securityContext, volumes (the
// pod); podAnnotations; service and serviceAnnotations (the Service).
// Not applied: hpaSpec and podDisruptionBudget (Weft renders no autoscaler or disruption
// budget). overlays are refused earlier (spec_checks.h).
//
// The values are Kubernetes API types taken as given; the rendered objects are checked
// against their kinds' schemas afterwards, which is where a bad value is reported.

#include <boost/json/object.hpp>

namespace weft::install {

// `workload` is a whole Deployment or DaemonSet whose pod has the component's container first.
void applyWorkloadSettings(const boost::json::object& k8s, boost::json::object& workload);

// `service` is a whole Service.
void applyServiceSettings(const boost::json::object& k8s, boost::json::object& service);

}  // namespace weft::install
