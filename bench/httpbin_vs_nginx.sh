#!/usr/bin/env bash
# HTTP/1.1 keep-alive throughput: weft-httpbin's GET /get (the full go-httpbin echo: parse,
# build and indent the JSON, write an access log line) against nginx answering /get with a
# fixed JSON body of the same size (`return 200`, access log on), both on 127.0.0.1 with
# the same worker count, driven by the same wrk run settings.
# Usage: httpbin_vs_nginx.sh BUILD_BIN_DIR [DURATION] [CONNECTIONS]
set -euo pipefail
bin=$(realpath "$1")
duration=${2:-5s}
connections=${3:-32}
workers=$(nproc)
if [ "$workers" -gt 4 ]; then workers=4; fi  # weft-httpbin runs min(cores, 4) threads

work=$(mktemp -d /tmp/weft-bench-httpbin.XXXXXX)
httpbin_pid=
nginx_pid=
cleanup() {
  if [ -n "$httpbin_pid" ]; then kill "$httpbin_pid" 2>/dev/null || true; fi
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# weft-httpbin on a kernel-chosen port, read back from its ready line.
"$bin/weft-httpbin" -host 127.0.0.1 -port 0 >"$work/httpbin.log" 2>&1 &
httpbin_pid=$!
httpbin_port=
for _ in $(seq 100); do
  httpbin_port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$work/httpbin.log")
  [ -n "$httpbin_port" ] && break
  sleep 0.1
done
[ -n "$httpbin_port" ] || { echo "weft-httpbin did not start:" >&2; cat "$work/httpbin.log" >&2; exit 1; }

# nginx serves the body weft-httpbin gives wrk, as a constant.
body=$(curl -sS -A "wrk" "http://127.0.0.1:$httpbin_port/get" | tr -d '\n')
nginx_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log $work/nginx/logs/access.log;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /get {
      default_type "application/json; charset=utf-8";
      return 200 '$body\n';
    }
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" &
nginx_pid=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$nginx_port/get" && break
  sleep 0.1
done

# Requests/sec from one wrk run.
measure() {
  wrk -t 2 -c "$connections" -d "$duration" "$1" | awk '/^Requests\/sec:/ { print $2 }'
}
curl -sS -o /dev/null "http://127.0.0.1:$httpbin_port/get"  # warm up both
curl -sS -o /dev/null "http://127.0.0.1:$nginx_port/get"
weft_rps=$(measure "http://127.0.0.1:$httpbin_port/get")
nginx_rps=$(measure "http://127.0.0.1:$nginx_port/get")
[ -n "$weft_rps" ] && [ -n "$nginx_rps" ] || { echo "wrk gave no result" >&2; exit 1; }

ratio=$(awk -v a="$weft_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')
echo "| GET /get keep-alive, wrk -t2 -c$connections -d$duration, $workers workers each, ${#body}-byte JSON" \
  "| weft-httpbin ${weft_rps} req/s | nginx return 200 ${nginx_rps} req/s | weft/nginx ${ratio} |"
