#!/usr/bin/env bash
# Re-fetches the web UI's pinned JavaScript from the npm registry into
# $PURSER_NPM_CACHE and copies the minified files into internal/ui/static,
# then prints their sha256 for internal/ui/static/VERSIONS. axe-core is
# fetched for the browser tests only (it is not embedded).
set -euo pipefail
cd "$(dirname "$0")/.."
export PURSER_NPM_CACHE="${PURSER_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/purser-npm}"
HTMX=2.0.11
SSE=2.2.4
AXE=4.11.4
npm install --prefix "$PURSER_NPM_CACHE" --no-audit --no-fund --silent \
  "htmx.org@$HTMX" "htmx-ext-sse@$SSE" "axe-core@$AXE"
m="$PURSER_NPM_CACHE/node_modules"
cp "$m/htmx.org/dist/htmx.min.js" internal/ui/static/htmx.min.js
cp "$m/htmx-ext-sse/dist/sse.min.js" internal/ui/static/sse.min.js
echo "htmx.org $HTMX, htmx-ext-sse $SSE (axe-core $AXE for tests):"
(cd internal/ui/static && sha256sum htmx.min.js sse.min.js)
