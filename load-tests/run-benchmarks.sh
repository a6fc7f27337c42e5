#!/usr/bin/env bash
# Runs the BENCHMARKS.md table against a release node on this machine: builds both
# binaries, starts a node on 127.0.0.1:9100 with the chat limits raised (the benchmark
# measures fan-out, not rate limiting) and its record in a SQLite file, imports a session for
# every benchmark room, runs every row with --json, and prints one JSON line per row. The
# load tool and the node share the machine.
#
#   bash load-tests/run-benchmarks.sh > /tmp/benchmarks.jsonl
#   bash load-tests/run-benchmarks.sh expo     # one row only: keynote, qa-storm, expo, ...
set -euo pipefail
only="${1:-}"
cd "$(dirname "$0")/.."

cargo build --release --bin plenary --bin plenary-load >&2
secret="bench-secret-$(date +%s)-0123456789abcdef0123456789"
data=$(mktemp -d)
node_pid=""

start_node() {
  stop_node
  PLENARY_LISTEN=127.0.0.1:9100 PLENARY_JWT_SECRET="$secret" PLENARY_DATA_DIR="$data" \
  PLENARY_CHAT_PER_MINUTE=100000000 PLENARY_CHAT_BURST=1000000 \
  PLENARY_COMMANDS_PER_SECOND=1000000 PLENARY_COMMAND_BURST=1000000 \
  PLENARY_MAX_CONNECTIONS=50000 PLENARY_LOG=warn \
    ./target/release/plenary > "$data/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 100); do
    if curl -fs http://127.0.0.1:9100/readyz > /dev/null 2>&1; then
      import_sessions
      return
    fi
    sleep 0.1
  done
  echo "the node did not start: $(cat "$data/node.log")" >&2
  exit 1
}

# The node serves rooms only for the sessions and booths in its programme: import one per
# benchmark room, and the expo scenario's 50 booths.
import_sessions() {
  local token sessions="" booths=""
  token=$(PLENARY_JWT_SECRET="$secret" ./target/release/plenary token --sub bench --name Bench --role organiser)
  for id in keynote-load join-storm-load chat-storm-load churn-load idle-load qa-storm-load \
            k-1000-10 k-1000-50 k-1000-200 k-5000-10 k-5000-50 k-5000-200 k-10000-10 k-10000-50 k-10000-200; do
    sessions+="{\"id\":\"$id\",\"title\":\"Benchmark $id\",\"kind\":\"keynote\",\"starts_at\":\"2026-01-01T00:00:00Z\",\"ends_at\":\"2026-01-02T00:00:00Z\"},"
  done
  for k in $(seq 0 49); do
    booths+="{\"id\":\"expo-load-$k\",\"organisation\":\"Benchmark booth $k\"},"
  done
  curl -fsS -X POST -H "Authorization: Bearer $token" \
    --data-binary "{\"sessions\":[${sessions%,}],\"booths\":[${booths%,}]}" \
    'http://127.0.0.1:9100/api/import?format=json' > /dev/null
}

stop_node() {
  if [ -n "$node_pid" ]; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
    node_pid=""
  fi
}
trap 'stop_node; rm -rf "$data"' EXIT

load() {
  PLENARY_JWT_SECRET="$secret" ./target/release/plenary-load --url ws://127.0.0.1:9100/ws \
    --server-pid "$node_pid" --json "$@"
}

start_node
if [ -n "$only" ]; then
  case "$only" in
    expo) load expo --visitors 3000 --booths 50 --duration 60s ;;
    qa-storm) load qa-storm --viewers 10000 --questions 500 --votes 20000 --duration 60s ;;
    *) echo "unknown row $only: expo or qa-storm" >&2; exit 2 ;;
  esac
  exit 0
fi
for viewers in 1000 5000 10000; do
  for rate in 10 50 200; do
    load keynote --viewers "$viewers" --rate "$rate" --duration 10s --room "session:k-$viewers-$rate"
  done
done
load join-storm --clients 10000 --within 10s
load chat-storm --room-size 1000 --chatters 50 --rate 2 --duration 10s
load churn --workers 64 --duration 10s
load qa-storm --viewers 10000 --questions 500 --votes 20000 --duration 60s
load expo --visitors 3000 --booths 50 --duration 60s

for clients in 5000 10000; do
  start_node
  load idle --clients "$clients" --hold 5s
done
