#!/usr/bin/env bash
# Installs every Debian package Weft needs to build, test, benchmark and demo.
# Idempotent: packages already present are skipped, so a second run costs seconds.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap: must run as root (it installs Debian packages)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang lld libclang-rt-14-dev
  # libraries (see docs/ARCHITECTURE.md, "Dependencies")
  libboost1.81-dev libssl-dev libnghttp2-dev libyaml-dev libre2-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libspdlog-dev libfmt-dev libcli11-dev libjemalloc-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real peers used by tests, benchmarks and the demo
  openssl curl jq iproute2 iptables procps psmisc time bc util-linux python3-yaml
  wrk nghttp2-client iperf3 stunnel4 haproxy nginx-light tshark
  python3 python3-h2 redis-server
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once so the install never prompts.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
