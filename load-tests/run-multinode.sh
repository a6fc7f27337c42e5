#!/usr/bin/env bash
# The multi-node rows of BENCHMARKS.md: the same keynote fan-out on one node alone (memory
# bus), one node on Redis, and two nodes on one Redis (127.0.0.1:9101 and 127.0.0.2:9102,
# viewers spread over both by plenary-load). Every node and Redis share this machine's cores
# with the load tool. For each row it prints the load tool's JSON line, then Redis's
# command count and CPU seconds over the row.
#
#   bash load-tests/run-multinode.sh [viewers] [rate] > /tmp/multinode.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."

viewers=${1:-1000}
rate=${2:-50}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
redis_host=$(echo "$redis_url" | sed -E 's#redis://([^:/]+).*#\1#')
redis_port=$(echo "$redis_url" | sed -E 's#redis://[^:/]+:?([0-9]*).*#\1#')
redis_port=${redis_port:-6379}
cargo build --release --bin plenary --bin plenary-load >&2
secret="bench-secret-$(date +%s)-0123456789abcdef0123456789"
prefix="plenary-bench-$$:"
data=$(mktemp -d)
pids=()

start_node() { # listen-address [redis]
  local listen=$1 redis=${2:-}
  env PLENARY_LISTEN="$listen" PLENARY_JWT_SECRET="$secret" PLENARY_DATA_DIR="$data" DATABASE_URL=memory \
    ${redis:+REDIS_URL="$redis"} PLENARY_REDIS_PREFIX="$prefix" \
    PLENARY_CHAT_PER_MINUTE=100000000 PLENARY_CHAT_BURST=1000000 \
    PLENARY_COMMANDS_PER_SECOND=1000000 PLENARY_COMMAND_BURST=1000000 \
    PLENARY_MAX_CONNECTIONS=50000 PLENARY_LOG=warn \
    ./target/release/plenary > "$data/node-$listen.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do
    curl -fs "http://$listen/readyz" > /dev/null 2>&1 && return
    sleep 0.1
  done
  echo "the node on $listen did not start: $(cat "$data/node-$listen.log")" >&2
  exit 1
}

stop_nodes() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_nodes
  redis-cli -h "$redis_host" -p "$redis_port" --scan --pattern "${prefix}*" | xargs -r redis-cli -h "$redis_host" -p "$redis_port" del > /dev/null
  rm -rf "$data"
}
trap cleanup EXIT

redis_figures() { # prints "commands cpu_seconds"
  local info
  info=$(redis-cli -h "$redis_host" -p "$redis_port" info all | tr -d '\r')
  echo "$(echo "$info" | sed -n 's/^total_commands_processed://p') \
$(echo "$info" | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.2f", s }')"
}

row() { # name urls...
  local name=$1; shift
  local urls before after
  urls=$(IFS=,; echo "$*")
  before=$(redis_figures)
  PLENARY_JWT_SECRET="$secret" ./target/release/plenary-load --url "$urls" --server-pid "${pids[0]}" --json \
    keynote --viewers "$viewers" --rate "$rate" --duration 10s --room "session:multi-$name"
  after=$(redis_figures)
  read -r c0 u0 <<< "$before"
  read -r c1 u1 <<< "$after"
  echo "{\"row\":\"$name\",\"redis_commands\":$((c1 - c0)),\"redis_cpu_seconds\":$(echo "$u1 - $u0" | bc | xargs printf "%.2f")}"
}

start_node 127.0.0.1:9101
row one-node-memory ws://127.0.0.1:9101/ws
stop_nodes

start_node 127.0.0.1:9101 "$redis_url"
row one-node-redis ws://127.0.0.1:9101/ws
stop_nodes

start_node 127.0.0.1:9101 "$redis_url"
start_node 127.0.0.2:9102 "$redis_url"
row two-nodes-redis ws://127.0.0.1:9101/ws ws://127.0.0.2:9102/ws
stop_nodes
