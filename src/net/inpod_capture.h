#pragma once
// In-pod traffic capture: the rules Istio's CNI agent installs inside an ambient pod's
// network namespace (iptables backend, REDIRECT mode, IPv4; reference 2.3), so that the
// pod's TCP traffic reaches the ztunnel listeners opened in the same namespace:
//
//   outbound   -> 15001 (nat OUTPUT, REDIRECT)
//   inbound    -> 15006 plaintext (nat PREROUTING, REDIRECT); 15008 (HBONE) is left alone
//   ztunnel's own sockets carry mark 0x539 and are never redirected; connections they
//   make get connmark 0x111, and replies carrying it are routed to the local stack
//   (fwmark 0x111/0xfff -> table 100: local 0.0.0.0/0 dev lo), which is what lets the
//   inbound upstream socket keep the client's address as its source.
//
// Left out on purpose: the DNS proxy rules (15053 and the raw-table conntrack zones) come
// with ztunnel's DNS proxy; the host-side SNAT of kubelet probes is not needed here (see
// CaptureSettings::probeSource).
//
// Applying is idempotent (chains are declared, which flushes them, and a jump is added
// only where it is missing) and all-or-nothing: if any step fails, whatever was applied is
// removed again before the error is returned.

#include <optional>
#include <string>
#include <string_view>

#include "base/ipv4.h"
#include "base/result.h"

namespace weft::net {

inline constexpr int kOutboundPort = 15001;
inline constexpr int kInboundPlaintextPort = 15006;
inline constexpr int kInboundHbonePort = 15008;
inline constexpr uint32_t kCaptureMask = 0xfff;
inline constexpr uint32_t kConnectionMark = 0x111;  // InpodTProxyMark
inline constexpr int kCaptureRouteTable = 100;
inline constexpr int kCaptureRulePriority = 32764;

struct CaptureSettings {
  // TCP from this address reaches the app directly and replies to it are not captured.
  // Istio exempts 169.254.7.127, the address kubelet probes are SNATed to on the host. The
  // local cluster's kubelet probes from the cluster namespace, across the bridge, so its
  // probes come from the bridge's gateway address (the source the kernel picks for the
  // pod range there); that address is the one to pass. Unset: nothing is exempt.
  std::optional<Ipv4Address> probeSource;
  uint32_t ztunnelMark = 0x539;  // what ztunnel marks its sockets with (kInpodMark)
};

// The complete rules for a namespace that has none yet, as iptables-restore input.
std::string renderCaptureRules(const CaptureSettings& settings);

// How much of the capture a namespace already has, read from `iptables-save` output.
struct CaptureState {
  bool mangleChains = false;  // ISTIO_PRERT or ISTIO_OUTPUT exists in mangle
  bool natChains = false;
  int manglePreroutingJumps = 0;
  int mangleOutputJumps = 0;
  int natPreroutingJumps = 0;
  int natOutputJumps = 0;

  bool empty() const {
    return !mangleChains && !natChains && manglePreroutingJumps + mangleOutputJumps + natPreroutingJumps + natOutputJumps == 0;
  }
};
CaptureState parseCaptureState(std::string_view iptablesSave);

// iptables-restore --noflush input that turns `current` into exactly one copy of the rules.
std::string renderCaptureUpdate(const CaptureSettings& settings, const CaptureState& current);
// iptables-restore --noflush input that removes every chain and jump of `current`; empty
// when there is nothing to remove.
std::string renderCaptureRemoval(const CaptureState& current);

// Installs the rules, the policy-routing rule and the table-100 route in the namespace.
Status applyCapture(int netnsFd, const CaptureSettings& settings);
// Removes exactly what applyCapture installs; succeeds when nothing is there.
Status removeCapture(int netnsFd);

}  // namespace weft::net
