#!/bin/sh
# Runs every fuzz target for a short budget each (FUZZTIME, default 10s):
# the parsers of what users submit. Their corpora in testdata/fuzz also run
# as ordinary tests under `make test`. A failing input is written to the
# target's testdata/fuzz directory: commit it with the fix.
set -eu
cd "$(dirname "$0")/.."
t="${FUZZTIME:-10s}"
for target in \
  ".:FuzzParseQuery" \
  ".:FuzzTemplateParams" \
  "./internal/driver/exec:FuzzRender" \
  "./internal/driver/kubernetes:FuzzCheckKubeconfig"; do
  pkg="${target%%:*}" name="${target#*:}"
  echo "fuzz $name ($pkg) for $t"
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$t" -fuzzminimizetime 5s "$pkg"
done
