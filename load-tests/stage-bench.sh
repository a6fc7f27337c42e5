#!/usr/bin/env bash
# The WebRTC stage's capacity: a release node (record in SQLite, one media worker) with a
# session on a WebRTC stage, and `plenary-load stage` with a bot speaker (about 1 Mbps of
# VP8 in three layers, plus Opus) and growing numbers of bot viewers, video (auto: each viewer
# gets the layer its estimate allows) and audio only. Node and bots share this machine's
# cores. Traffic stays on 127.0.0.1.
#
#   bash load-tests/stage-bench.sh target/release [video viewer counts] [audio-only counts]
set -euo pipefail
bin=$1
video_counts=${2:-"50 100 200 300"}
audio_counts=${3:-"300 1000"}
secret="bench-secret-$(date +%s)-0123456789abcdef0123456789"
data=$(mktemp -d)
PLENARY_LISTEN=127.0.0.1:9101 PLENARY_JWT_SECRET="$secret" PLENARY_DATA_DIR="$data" PLENARY_DEMO_EVENT=false \
  PLENARY_MEDIA_MAX_VIEWERS=100000 PLENARY_MAX_CONNECTIONS=50000 PLENARY_LOG=warn \
  "$bin/plenary" > "$data/node.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:9101/readyz > /dev/null 2>&1 && break; sleep 0.1; done
token=$(PLENARY_JWT_SECRET="$secret" "$bin/plenary" token --sub bench --name Bench --role organiser 2>/dev/null)
put() { curl -fsS -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary "$2" "http://127.0.0.1:9101$1" > /dev/null; }
put /api/event '{"name":"Stage bench","time_zone":"UTC","starts_on":"2026-01-01","ends_on":"2026-01-02"}'
put /api/sessions/stage-load '{"id":"stage-load","title":"Stage load","kind":"keynote","starts_at":"2026-01-01T00:00:00Z","ends_at":"2026-01-02T00:00:00Z","stage":{"kind":"webrtc"}}'
load() { PLENARY_JWT_SECRET="$secret" "$bin/plenary-load" --url ws://127.0.0.1:9101/ws --server-pid "$pid" --json --connect-rate 200 stage "$@"; }
for n in $video_counts; do load --viewers "$n" --duration 10s; done
for n in $audio_counts; do load --viewers "$n" --duration 10s --quality audio-only; done
