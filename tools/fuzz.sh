#!/bin/sh
# Runs every fuzz target for a short budget each: the parsers of what users
# submit. Their corpora in testdata/fuzz also run as ordinary tests under
# `make test`. A failing input is written to the target's testdata/fuzz
# directory: commit it with the fix.
#
# Budgets are counts of executions (about 10 s each here), not durations:
# a duration-based -fuzztime can fail with a bare "context deadline
# exceeded" and no failing input when the deadline races a busy worker
# (golang/go#75804, fixed in Go 1.27). FUZZTIME overrides every budget
# (a count such as 500000x, or a duration once Go is 1.27 or later).
set -eu
cd "$(dirname "$0")/.."
for target in \
  ".:FuzzParseQuery:150000x" \
  ".:FuzzTemplateParams:100000x" \
  "./internal/driver/exec:FuzzRender:8000x" \
  "./internal/driver/kubernetes:FuzzCheckKubeconfig:10000x"; do
  pkg="${target%%:*}" rest="${target#*:}"
  name="${rest%%:*}" budget="${FUZZTIME:-${rest#*:}}"
  echo "fuzz $name ($pkg) for $budget"
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$budget" -fuzzminimizetime 100x "$pkg"
done
