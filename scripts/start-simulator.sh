#!/usr/bin/env bash
# Starts the Buildkite simulator (scripts/simulator.ts) in the background, waits until it serves,
# and hands its URL and token on: on a GitHub runner as BK_API_URL and BK_TOKEN lines appended
# to $GITHUB_ENV, elsewhere as `export` lines on stdout, for `eval "$(scripts/start-simulator.sh)"`.
#
#   scripts/start-simulator.sh [simulator flags]      (default: --seed 1 --builds 300)
#
# The simulator's output goes to $SIM_LOG (default: flake-checker-simulator.log in $RUNNER_TEMP,
# else $TMPDIR or /tmp) and its process id to $SIM_LOG.pid. Stop it with
#   kill -INT "$(cat "$SIM_LOG.pid")"
# which makes it print its request counts to the log.
set -euo pipefail
cd "$(dirname "$0")/.."

log="${SIM_LOG:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/flake-checker-simulator.log}"
args=("$@")
if [ ${#args[@]} -eq 0 ]; then args=(--seed 1 --builds 300); fi

# `node --import tsx` rather than `npx tsx`: one process, so the pid below is the simulator's.
node --import tsx scripts/simulator.ts "${args[@]}" >"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$log.pid"

# The simulator prints "Buildkite simulator on <url> (...)" and then "BK_TOKEN=<token>".
for _ in $(seq 1 600); do
  grep -q '^BK_TOKEN=' "$log" && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-simulator: the simulator exited before it was ready:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

url="$(sed -n 's/^Buildkite simulator on \([^ ]*\).*/\1/p' "$log" | head -n 1)"
token="$(sed -n 's/^BK_TOKEN=//p' "$log" | head -n 1)"
if [ -z "$url" ] || [ -z "$token" ]; then
  echo "start-simulator: no URL and token from the simulator within 60 s; its output:" >&2
  cat "$log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
fi

if [ -n "${GITHUB_ENV:-}" ]; then
  echo "::add-mask::$token"
  { echo "BK_API_URL=$url"; echo "BK_TOKEN=$token"; } >>"$GITHUB_ENV"
else
  printf 'export BK_API_URL=%q\nexport BK_TOKEN=%q\n' "$url" "$token"
fi
echo "start-simulator: simulator on $url (pid $pid, log $log)" >&2
