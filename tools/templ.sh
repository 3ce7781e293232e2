#!/usr/bin/env bash
# Compiles the web UI's templ templates (internal/ui/*.templ) into the Go
# files beside them (*_templ.go, committed so that a build needs no tool).
#   tools/templ.sh          regenerate
#   tools/templ.sh --check  regenerate and fail if a generated file changed
#                           or is not committed (make lint runs it)
# The UI renders with templ, not html/template: executing a text/template
# or html/template anywhere in the binary costs it about 15 MB (see
# bench/README.md, "For the web UI").
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPL=github.com/a-h/templ/cmd/templ@v0.3.1100  # the version go.mod requires
go run "$TEMPL" generate -path internal/ui -log-level warn
if [ "${1:-}" = "--check" ]; then
  untracked="$(git ls-files --others --exclude-standard -- 'internal/ui/*_templ.go')"
  if [ -n "$untracked" ]; then
    echo "generated but not committed: $untracked"
    exit 1
  fi
  if ! git diff --exit-code --stat -- 'internal/ui/*_templ.go'; then
    echo "internal/ui/*_templ.go are not current: run tools/templ.sh (or make generate) and commit them"
    exit 1
  fi
fi
