#!/usr/bin/env bash
# Builds the browser client into web/dist when it is missing or older than its sources,
# installing the pinned dependencies (package-lock.json) first when they changed.
# Used by the README's run command and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v npm >/dev/null; then
  echo "web/build.sh: npm is missing; install Node.js 20 or newer (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

newest_source=$(find src public index.html vite.config.ts package-lock.json -type f -newer dist/index.html 2>/dev/null | head -1 || true)
if [ ! -f dist/index.html ] || [ -n "$newest_source" ]; then
  npx vite build --logLevel warn
fi
