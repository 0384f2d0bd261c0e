#include "net/inpod_capture.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/subprocess.h"
#include "net/netns_socket.h"

namespace weft::net {
namespace {

constexpr std::string_view kPreroutingChain = "ISTIO_PRERT";
constexpr std::string_view kOutputChain = "ISTIO_OUTPUT";
constexpr std::string_view kPreroutingJump = "-A PREROUTING -j ISTIO_PRERT";
constexpr std::string_view kOutputJump = "-A OUTPUT -j ISTIO_OUTPUT";

std::string mark(uint32_t value) { return fmt::format("{:#x}/{:#x}", value, kCaptureMask); }

// The jump from a built-in chain: added when missing, extra copies deleted.
void jumps(std::string& out, std::string_view jump, int present) {
  if (present == 0) out += fmt::format("{}\n", jump);
  for (int i = 1; i < present; ++i) out += fmt::format("-D{}\n", jump.substr(2));
}

void mangleTable(std::string& out, const CaptureSettings& s, int preroutingJumps, int outputJumps) {
  out += fmt::format("*mangle\n:{} - [0:0]\n:{} - [0:0]\n", kPreroutingChain, kOutputChain);
  jumps(out, kPreroutingJump, preroutingJumps);
  jumps(out, kOutputJump, outputJumps);
  // ztunnel's upstream connections (marked) are remembered by connmark, and the replies
  // to them get the mark back so policy routing hands them to the local stack.
  out += fmt::format("-A ISTIO_PRERT -m mark --mark {} -j CONNMARK --set-xmark {}\n", mark(s.ztunnelMark), mark(kConnectionMark));
  out += fmt::format("-A ISTIO_OUTPUT -m connmark --mark {} -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff\n",
                     mark(kConnectionMark));
  out += "COMMIT\n";
}

void natTable(std::string& out, const CaptureSettings& s, int preroutingJumps, int outputJumps) {
  out += fmt::format("*nat\n:{} - [0:0]\n:{} - [0:0]\n", kPreroutingChain, kOutputChain);
  jumps(out, kPreroutingJump, preroutingJumps);
  jumps(out, kOutputJump, outputJumps);
  if (s.probeSource) out += fmt::format("-A ISTIO_PRERT -s {}/32 -p tcp -m tcp -j ACCEPT\n", s.probeSource->str());
  out += fmt::format("-A ISTIO_PRERT ! -d 127.0.0.1/32 -p tcp -m tcp ! --dport {} -m mark ! --mark {} -j REDIRECT --to-ports {}\n",
                     kInboundHbonePort, mark(s.ztunnelMark), kInboundPlaintextPort);
  if (s.probeSource) out += fmt::format("-A ISTIO_OUTPUT -d {}/32 -p tcp -m tcp -j ACCEPT\n", s.probeSource->str());
  out += fmt::format("-A ISTIO_OUTPUT -p tcp -m mark --mark {} -j ACCEPT\n", mark(kConnectionMark));
  out += "-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -j ACCEPT\n";
  out += fmt::format("-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -p tcp -m mark ! --mark {} -j REDIRECT --to-ports {}\n", mark(s.ztunnelMark),
                     kOutboundPort);
  out += "COMMIT\n";
}

void removeFromTable(std::string& out, std::string_view table, bool chains, int preroutingJumps, int outputJumps) {
  if (!chains && preroutingJumps == 0 && outputJumps == 0) return;
  out += fmt::format("*{}\n", table);
  for (int i = 0; i < preroutingJumps; ++i) out += fmt::format("-D{}\n", kPreroutingJump.substr(2));
  for (int i = 0; i < outputJumps; ++i) out += fmt::format("-D{}\n", kOutputJump.substr(2));
  if (chains) {
    // Declaring a chain creates it if one of the pair is missing and flushes it, so both
    // can then be deleted without knowing which existed.
    out += fmt::format(":{0} - [0:0]\n:{1} - [0:0]\n-X {0}\n-X {1}\n", kPreroutingChain, kOutputChain);
  }
  out += "COMMIT\n";
}

// Everything below runs on a thread that is inside the pod's namespace: the programs it
// starts inherit that namespace.

std::string policyRule() { return fmt::format("fwmark {} lookup {}", mark(kConnectionMark), kCaptureRouteTable); }

Result<int> countPolicyRules() {
  auto shown = runCommand({"ip", "-4", "rule", "show"});
  if (!shown) return shown.error();
  if (shown->exitCode != 0) return makeError("ip rule show: {}", shown->output);
  int count = 0;
  std::string_view text = shown->output;
  std::string wanted = fmt::format("{}:\tfrom all {}", kCaptureRulePriority, policyRule());
  size_t pos = 0;
  while ((pos = text.find(wanted, pos)) != std::string_view::npos) {
    ++count;
    pos += wanted.size();
  }
  return count;
}

Result<CaptureState> readState() {
  auto saved = runCommand({"iptables-save"});
  if (!saved) return saved.error();
  if (saved->exitCode != 0) return makeError("iptables-save: {}", saved->output);
  return parseCaptureState(saved->output);
}

Status removeHere() {
  Status result;
  auto keep = [&](Status s) {
    if (!s && result) result = s;
  };
  auto state = readState();
  if (!state) {
    keep(state.error());
  } else if (std::string input = renderCaptureRemoval(*state); !input.empty()) {
    keep(runChecked({"iptables-restore", "--noflush"}, input));
  }
  auto rules = countPolicyRules();
  if (!rules) keep(rules.error());
  for (int i = 0; rules && i < *rules; ++i) {
    keep(runChecked({"ip", "-4", "rule", "del", "pref", std::to_string(kCaptureRulePriority), "fwmark", mark(kConnectionMark), "lookup",
                     std::to_string(kCaptureRouteTable)}));
  }
  auto routes = runCommand({"ip", "-4", "route", "show", "table", std::to_string(kCaptureRouteTable)});
  if (routes && routes->exitCode == 0 && routes->output.find("local default dev lo") != std::string::npos) {
    keep(runChecked({"ip", "-4", "route", "del", "local", "0.0.0.0/0", "dev", "lo", "table", std::to_string(kCaptureRouteTable)}));
  }
  return result;
}

// ztunnel's listeners in the pod are a SO_REUSEPORT group: during a rollout the new
// ztunnel binds beside the old one, which then closes its own. Without migration the kernel
// resets the connections still in the closing listener's queues (a handshake in flight, or
// done but not yet accepted), which the app sees as a refused connect. With
// tcp_migrate_req (Linux 5.14+) it moves them to the listener that stays. Per namespace;
// a kernel without it only loses that, so a failure is a warning, not a failed capture.
void migrateRequestsOnListenerClose() {
  constexpr const char* kPath = "/proc/sys/net/ipv4/tcp_migrate_req";
  FILE* file = std::fopen(kPath, "w");
  bool written = file != nullptr && std::fputs("1\n", file) >= 0;
  if (file != nullptr && std::fclose(file) != 0) written = false;
  if (!written) spdlog::warn("{}: {}; connections may be reset while ztunnel restarts", kPath, std::strerror(errno));
}

Status applyHere(const CaptureSettings& settings) {
  migrateRequestsOnListenerClose();
  // Routing first: on its own it changes nothing (no packet carries the mark yet). The nat
  // table goes last (it is what starts redirecting), in the same restore as mangle.
  WEFT_TRY(runChecked({"ip", "-4", "route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", std::to_string(kCaptureRouteTable)}));
  auto rules = countPolicyRules();
  if (!rules) return rules.error();
  if (*rules == 0) {
    WEFT_TRY(runChecked({"ip", "-4", "rule", "add", "pref", std::to_string(kCaptureRulePriority), "fwmark", mark(kConnectionMark), "lookup",
                         std::to_string(kCaptureRouteTable)}));
  }
  auto state = readState();
  if (!state) return state.error();
  return runChecked({"iptables-restore", "--noflush"}, renderCaptureUpdate(settings, *state));
}

}  // namespace

std::string renderCaptureRules(const CaptureSettings& settings) { return renderCaptureUpdate(settings, CaptureState{}); }

std::string renderCaptureUpdate(const CaptureSettings& settings, const CaptureState& current) {
  std::string out;
  mangleTable(out, settings, current.manglePreroutingJumps, current.mangleOutputJumps);
  natTable(out, settings, current.natPreroutingJumps, current.natOutputJumps);
  return out;
}

std::string renderCaptureRemoval(const CaptureState& current) {
  std::string out;
  removeFromTable(out, "nat", current.natChains, current.natPreroutingJumps, current.natOutputJumps);
  removeFromTable(out, "mangle", current.mangleChains, current.manglePreroutingJumps, current.mangleOutputJumps);
  return out;
}

CaptureState parseCaptureState(std::string_view text) {
  CaptureState state;
  std::string_view table;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.starts_with('*')) {
      table = line.substr(1);
      continue;
    }
    bool mangle = table == "mangle", nat = table == "nat";
    if (!mangle && !nat) continue;
    bool chain = line.starts_with(fmt::format(":{} ", kPreroutingChain)) || line.starts_with(fmt::format(":{} ", kOutputChain));
    (mangle ? state.mangleChains : state.natChains) |= chain;
    if (line == kPreroutingJump) ++(mangle ? state.manglePreroutingJumps : state.natPreroutingJumps);
    if (line == kOutputJump) ++(mangle ? state.mangleOutputJumps : state.natOutputJumps);
  }
  return state;
}

Status applyCapture(int netnsFd, const CaptureSettings& settings) {
  Status status;
  WEFT_TRY(runInNetns(netnsFd, [&] {
    status = applyHere(settings);
    if (!status) (void)removeHere();  // all or nothing
  }));
  if (!status) return status.error().wrap("installing the in-pod capture rules");
  return {};
}

Status removeCapture(int netnsFd) {
  Status status;
  WEFT_TRY(runInNetns(netnsFd, [&] { status = removeHere(); }));
  if (!status) return status.error().wrap("removing the in-pod capture rules");
  return {};
}

}  // namespace weft::net
