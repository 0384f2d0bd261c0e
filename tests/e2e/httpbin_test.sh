#!/usr/bin/env bash
# weft-httpbin driven over loopback with real curl and jq: go-httpbin's JSON shapes, status
# codes, /delay, /bytes, /stream, /response-headers, keep-alive, a malformed request, the
# access log (one line per request) and a clean exit on SIGTERM with a request in flight.
# Usage: httpbin_test.sh PATH_TO_WEFT_HTTPBIN
set -uo pipefail
httpbin=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/weft-httpbin-e2e.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# Port 0: the kernel picks a free loopback port and the ready line names it, so parallel
# test runs never race for a port.
"$httpbin" -host 127.0.0.1 -port 0 >stdout.log 2>stderr.log &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' stdout.log)
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then
  fail "weft-httpbin did not say it was listening"
  cat stdout.log stderr.log
  finish
  exit 1
fi
pass "listening on 127.0.0.1:$port"
base="http://127.0.0.1:$port"

# Every request that reaches an endpoint must leave exactly one access log line; requests
# refused while parsing (the malformed ones below) leave none, as in go-httpbin. Requests
# are tallied in a file because most run inside $(...) subshells.
counted() { echo request >>requests.tally; }
get() {
  counted
  curl -sS --max-time 10 "$@"
}

# json_check DESCRIPTION FILTER [JQ_OPTIONS...] <JSON: passes when FILTER is true of the
# JSON value on stdin; empty input fails, where plain `jq -e` would pass it.
json_check() {
  local what=$1 filter=$2
  shift 2
  check "$what" jq -e -n "$@" "input | ($filter)"
}

# --- /get: go-httpbin's field order and arrays of strings -------------------------------
out=$(get "$base/get?a=1&a=2&b=x" -H 'X-Custom: yes')
json_check "/get fields in go-httpbin's order" 'keys_unsorted == ["args","headers","method","origin","url"]' <<<"$out"
json_check "/get args are arrays" '.args == {"a":["1","2"],"b":["x"]}' <<<"$out"
json_check "/get headers are arrays" \
  '.headers.Host == [$host] and .headers["X-Custom"] == ["yes"] and (.headers["User-Agent"][0] | startswith("curl/"))' \
  --arg host "127.0.0.1:$port" <<<"$out"
json_check "/get method and origin" '.method == "GET" and .origin == "127.0.0.1"' <<<"$out"
json_check "/get url is rebuilt from Host" '.url == $url' --arg url "$base/get?a=1&a=2&b=x" <<<"$out"
check "/get is indented two spaces" grep -q '^  "args": {$' <<<"$out"
out=$(get "$base/get" -H 'X-Forwarded-For: 203.0.113.9, 10.0.0.1')
json_check "origin is X-Forwarded-For's first entry" '.origin == "203.0.113.9"' <<<"$out"

# --- small endpoints ------------------------------------------------------------------------
out=$(get "$base/headers" -H 'x-lower-case: v')
json_check "/headers canonicalises names" 'keys == ["headers"] and .headers["X-Lower-Case"] == ["v"]' <<<"$out"
json_check "/ip" '. == {"origin":"127.0.0.1"}' <<<"$(get "$base/ip")"
json_check "/user-agent" '.["user-agent"] == "weft-e2e/1"' <<<"$(get -A weft-e2e/1 "$base/user-agent")"
json_check "/hostname is the real hostname" '. == {"hostname":$h}' --arg h "$(uname -n)" <<<"$(get "$base/hostname")"

# --- bodies ---------------------------------------------------------------------------------
out=$(get -X POST -H 'Content-Type: application/json' -d '{"b": 2, "a": [1.5, "x"]}' "$base/post")
json_check "/post echoes data and decoded json" \
  '.data == "{\"b\": 2, \"a\": [1.5, \"x\"]}" and .json == {"a":[1.5,"x"],"b":2} and .form == {} and .files == {}' <<<"$out"
out=$(get -X PUT -d 'k=v&k=w' "$base/anything/some/path")
json_check "/anything decodes forms" '.method == "PUT" and .form == {"k":["v","w"]}' <<<"$out"
json_check "/anything keeps the path in url" '.url == $url' --arg url "$base/anything/some/path" <<<"$out"
printf 'file contents\n' >upload.txt
out=$(get -F 'field=value' -F 'upload=@upload.txt' "$base/anything")
json_check "/anything decodes multipart" '.form == {"field":["value"]} and .files == {"upload":["file contents\n"]}' <<<"$out"

# --- status codes and methods ----------------------------------------------------------------
check_contains "/status/418 is a teapot" "$(get -i "$base/status/418")" "HTTP/1.1 418 I'm a teapot"
check_contains "/status/418 body" "$(get "$base/status/418")" "I'm a teapot!"
check_contains "/status/302 redirects" "$(get -i "$base/status/302")" "Location: /redirect/1"
out=$(get -w '\n%{http_code}' "$base/status/abc")
json_check "bad /status code is a 400 with go-httpbin's error body" \
  '.status_code == 400 and .error == "Bad Request" and (.detail | startswith("invalid status code"))' <<<"$(head -n -1 <<<"$out")"
check_contains "bad /status code status" "$(tail -n 1 <<<"$out")" "400"
check_contains "POST /get is 405" "$(get -o /dev/null -w '%{http_code}' -X POST "$base/get")" "405"
check_contains "unknown path is 404" "$(get -o /dev/null -w '%{http_code}' "$base/nope")" "404"

# --- /delay waits (on a timer), /bytes, /stream --------------------------------------------
took=$(get -o delay.json -w '%{time_total}' "$base/delay/1")
check "/delay/1 takes at least a second" awk -v t="$took" 'BEGIN { exit !(t >= 1.0) }'
json_check "/delay/1 answers like /anything" 'keys_unsorted == ["args","headers","method","origin","url","data","files","form","json"]' <delay.json
check_contains "/delay/11 is refused" "$(get -o /dev/null -w '%{http_code}' "$base/delay/11")" "400"
check "/bytes/10 sends 10 bytes" test "$(get "$base/bytes/10" | wc -c)" -eq 10
check_contains "/bytes/10 is octet-stream" "$(get -D - -o /dev/null "$base/bytes/10")" "Content-Type: application/octet-stream"
check_contains "huge /bytes is refused" "$(get -o /dev/null -w '%{http_code}' "$base/bytes/2000000")" "400"
get -D stream.headers -o stream.body "$base/stream/3"
check "/stream/3 sends 3 lines" test "$(wc -l <stream.body)" -eq 3
check "/stream/3 lines are JSON with ids 0..2" jq -e -n '[inputs | .id] == [0,1,2]' stream.body
check_contains "/stream is chunked" "$(cat stream.headers)" "Transfer-Encoding: chunked"

# --- /response-headers -------------------------------------------------------------------------
out=$(get -D - "$base/response-headers?X-Test=1")
check_contains "/response-headers sets the header" "$out" "X-Test: 1"
check_contains "/response-headers echoes the body" "$out" '"X-Test": ['

# --- keep-alive: two URLs in one curl invocation share one connection -------------------------
counted
out=$(get -v "$base/get" "$base/ip" 2>&1)
check_contains "keep-alive reuses the connection" "$out" "Re-using existing connection"

# --- malformed and oversized requests -----------------------------------------------------------
raw_request() {
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf '%b' "$1" >&3
  timeout 5 cat <&3
  exec 3<&-
}
check_contains "malformed header line gets 400" \
  "$(raw_request 'GET /get HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n')" "HTTP/1.1 400 Bad Request"
check_contains "garbage request line gets 400" "$(raw_request 'NOT HTTP\r\n\r\n')" "HTTP/1.1 400 Bad Request"
check_contains "HTTP/1.1 without Host gets 400" "$(raw_request 'GET /get HTTP/1.1\r\n\r\n')" "missing required Host header"
counted  # that one reached the endpoint layer, which refuses it, and is logged
big=$(head -c 30000 /dev/zero | tr '\0' a)
check_contains "oversized header gets 431" \
  "$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$base/get")" "431"
check_contains "oversized body gets 413" \
  "$(head -c 2000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "$base/post")" "413"
check_contains "still serving after bad input" "$(get -o /dev/null -w '%{http_code}' "$base/get")" "200"

# --- SIGTERM: the request in flight finishes, then the process exits 0 ---------------------------
counted
curl -sS --max-time 10 -o inflight.json -w '%{http_code}' "$base/delay/1" >inflight.code &
inflight=$!
sleep 0.3
kill -TERM "$pid"
wait "$inflight"
check_contains "request in flight at SIGTERM completes" "$(cat inflight.code)" "200"
wait "$pid"
code=$?
pid=
check "SIGTERM exits 0 (got $code)" test "$code" -eq 0
check_contains "shutdown is logged" "$(cat stdout.log)" 'msg="shutting down ..."'

# --- the access log: one line per request ------------------------------------------------------
requests=$(wc -l <requests.tally)
lines=$(grep -c ' status=[0-9]* method=' stdout.log)
check "one access log line per request ($requests)" test "$lines" -eq "$requests"
check_contains "access log line shape" "$(cat stdout.log)" 'status=418 method=GET uri=/status/418 size_bytes=13'
check "access log lines carry client_ip" grep -q 'user_agent=weft-e2e/1 client_ip=127.0.0.1$' stdout.log
check "nothing on stderr" test ! -s stderr.log

finish
