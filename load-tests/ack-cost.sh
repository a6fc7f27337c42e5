#!/usr/bin/env bash
# The cost of "acknowledged means recorded": keynote rows against a release node with its record
# in SQLite (acks wait for the commit) and with DATABASE_URL=memory (acks at once), printing
# fan-out and send-to-ack latency. Traffic stays on 127.0.0.1; each row stops by itself.
#
#   bash load-tests/ack-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin plenary --bin plenary-load >&2
secret="bench-secret-$(date +%s)-0123456789abcdef0123456789"
run_rows() {
  local mode=$1 data; data=$(mktemp -d)
  local extra=()
  [ "$mode" = memory ] && extra=(DATABASE_URL=memory)
  env "${extra[@]}" PLENARY_LISTEN=127.0.0.1:9100 PLENARY_JWT_SECRET="$secret" PLENARY_DATA_DIR="$data" \
    PLENARY_CHAT_PER_MINUTE=100000000 PLENARY_CHAT_BURST=1000000 \
    PLENARY_COMMANDS_PER_SECOND=1000000 PLENARY_COMMAND_BURST=1000000 \
    PLENARY_MAX_CONNECTIONS=50000 PLENARY_LOG=warn ./target/release/plenary > "$data/node.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -fs http://127.0.0.1:9100/readyz >/dev/null 2>&1 && break; sleep 0.1; done
  if [ "$mode" = sqlite ]; then
    token=$(PLENARY_JWT_SECRET="$secret" ./target/release/plenary token --sub bench --name Bench --role organiser 2>/dev/null)
    sessions=""
    for id in k-1000-50 k-1000-200 k-5000-50; do
      sessions+="{\"id\":\"$id\",\"title\":\"Benchmark $id\",\"kind\":\"keynote\",\"starts_at\":\"2026-01-01T00:00:00Z\",\"ends_at\":\"2026-01-02T00:00:00Z\"},"
    done
    curl -fsS -X POST -H "Authorization: Bearer $token" --data-binary "{\"sessions\":[${sessions%,}]}" \
      'http://127.0.0.1:9100/api/import?format=json' > /dev/null
  fi
  for row in "1000 50" "1000 200" "5000 50"; do
    set -- $row
    echo "== $mode keynote $1 x $2"
    PLENARY_JWT_SECRET="$secret" ./target/release/plenary-load --url ws://127.0.0.1:9100/ws --server-pid "$pid" --json \
      keynote --viewers "$1" --rate "$2" --duration 10s --room "session:k-$1-$2" \
      | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print({k: d.get(k) for k in ["deliveries_per_second","p50_ms","p99_ms","lost","ack_latency","ack_p50_ms","ack_p99_ms","events_accepted","server_cpu","tool_cpu"]})'
  done
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$data"
}
run_rows sqlite
run_rows memory
