#pragma once
// The host side of NodePort and LoadBalancer Services: what kind's extraPortMappings and
// a cloud load balancer give a real cluster. Each node port listens on 127.0.0.1 in the
// host's network namespace (loopback only: nothing of a test cluster is reachable from
// the network) and relays every TCP connection to the Service's ClusterIP:port from
// inside the cluster namespace, where the Service rules pick an endpoint.
//
// Invariants: the relay thread alone touches listeners_ and every socket; the control
// thread (the runtime's loop, through sync) alone touches applied_ and failed_, and hands
// work over by post(). Listening sockets are made by a short-lived thread that enters the
// host's namespace; a socket keeps the namespace it was made in, so the relay thread
// itself never leaves the cluster's. Every socket is close-on-exec, so pods the kubelet
// starts never inherit a listener and keep a port open after its Service is gone.

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/ipv4.h"
#include "base/result.h"

namespace weft::localcluster {

struct HostPortTarget {
  int nodePort = 0;
  Ipv4Address clusterIp;
  int port = 0;
  std::string service;  // "ns/name:port", for the log

  bool operator==(const HostPortTarget&) const = default;
};

struct HostPortListener;

class HostPortProxy {
 public:
  // `hostNetns` is an open descriptor of the host's network namespace, taken over.
  // Relayed connections come from `source`, an address of the cluster namespace (a
  // node's, as kube-proxy masquerades node-port traffic to the node it arrived on).
  HostPortProxy(int hostNetns, Ipv4Address source);
  ~HostPortProxy();
  HostPortProxy(const HostPortProxy&) = delete;
  HostPortProxy& operator=(const HostPortProxy&) = delete;

  // Listens on exactly the node ports of `targets`: opens new ones, retargets changed
  // ones, closes the rest (open connections run on, as conntrack keeps them on a node).
  // A port that cannot be bound is logged once and tried again on the next sync.
  void sync(const std::vector<HostPortTarget>& targets);

 private:
  Result<int> listenOnHost(int port) const;

  int hostNetns_;
  Ipv4Address source_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::map<int, std::shared_ptr<HostPortListener>> listeners_;  // relay thread only
  std::map<int, HostPortTarget> applied_;                // control thread only
  std::set<int> failed_;                                 // control thread only
  std::thread thread_;
};

}  // namespace weft::localcluster
