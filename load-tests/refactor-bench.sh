#!/usr/bin/env bash
# Keynote 1,000 x 50, 5,000 x 50 and 5,000 x 200, the join storm and churn against a release
# node built from the binaries in the directory given (plenary, plenary-load), its record in
# SQLite; run it for two builds in one sitting to compare them. Traffic stays on 127.0.0.1.
#
#   bash load-tests/refactor-bench.sh target/release
set -euo pipefail
bin=$1
secret="bench-secret-$(date +%s)-0123456789abcdef0123456789"
data=$(mktemp -d)
PLENARY_LISTEN=127.0.0.1:9100 PLENARY_JWT_SECRET="$secret" PLENARY_DATA_DIR="$data" \
  PLENARY_CHAT_PER_MINUTE=100000000 PLENARY_CHAT_BURST=1000000 \
  PLENARY_COMMANDS_PER_SECOND=1000000 PLENARY_COMMAND_BURST=1000000 \
  PLENARY_MAX_CONNECTIONS=50000 PLENARY_MAX_CONNECTIONS_PER_USER=50000 PLENARY_LOG=warn "$bin/plenary" > "$data/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:9100/readyz >/dev/null 2>&1 && break; sleep 0.1; done
token=$(PLENARY_JWT_SECRET="$secret" "$bin/plenary" token --sub bench --name Bench --role organiser 2>/dev/null)
sessions=""
for id in k-1000-50 k-5000-50 k-5000-200 join-storm-load churn-load; do
  sessions+="{\"id\":\"$id\",\"title\":\"Benchmark $id\",\"kind\":\"keynote\",\"starts_at\":\"2026-01-01T00:00:00Z\",\"ends_at\":\"2026-01-02T00:00:00Z\"},"
done
curl -fsS -X POST -H "Authorization: Bearer $token" --data-binary "{\"sessions\":[${sessions%,}]}" 'http://127.0.0.1:9100/api/import?format=json' > /dev/null
load() { PLENARY_JWT_SECRET="$secret" "$bin/plenary-load" --url ws://127.0.0.1:9100/ws --server-pid "$pid" --json "$@"; }
summ() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print({k: d.get(k) for k in ["scenario","deliveries_per_second","p50_ms","p99_ms","lost","join_latency","cycles_per_second","cycle_latency","errors","join_to_snapshot","failures","attendance_per_client"] if k in d})'; }
for row in "1000 50" "5000 50" "5000 200"; do set -- $row; load keynote --viewers "$1" --rate "$2" --duration 10s --room "session:k-$1-$2" | summ; done
load join-storm --clients 10000 --within 10s | summ
load churn --workers 64 --duration 10s | summ
kill $pid; wait $pid 2>/dev/null || true; rm -rf "$data"
