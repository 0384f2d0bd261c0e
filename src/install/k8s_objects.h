#pragma once
// Small builders for the Kubernetes objects an install renders, so each component's file
// reads as the object it makes.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "model/object.h"

namespace weft::install {

// The labels every installed object carries: managed-by, istio.io/rev, and Istio's
// operator.istio.io/component (Base, Pilot, Ztunnel, IngressGateways, EgressGateways).
boost::json::object installLabels(std::string_view component, std::string_view revision);

// `labels` with `more` added (`more` wins on a shared key).
boost::json::object withLabels(boost::json::object labels, const boost::json::object& more);

// An object of a kind Weft serves, with apiVersion, kind and metadata filled in.
model::Object makeObject(std::string_view apiVersion, std::string_view kind, std::string_view name, std::string_view ns,
                         boost::json::object labels, boost::json::object body = {});

model::Object makeServiceAccount(std::string_view name, std::string_view ns, boost::json::object labels);

// Container env entries.
boost::json::object envValue(std::string_view name, std::string_view value);
boost::json::object envField(std::string_view name, std::string_view fieldPath);  // the downward API
// What every data plane (ztunnel, gateway) is told: its node, pod, address and account from
// the downward API, and where its control plane (certificates and config) is.
boost::json::array dataPlaneEnv(const std::string& controlPlaneAddress, const std::string& revisionLabel);

boost::json::object containerPort(int port, std::string_view name = "");
boost::json::object servicePort(std::string_view name, int port, int targetPort);
// The readiness endpoint every Weft binary serves (as Istio's proxies do on 15021).
boost::json::object readinessProbe();

}  // namespace weft::install
