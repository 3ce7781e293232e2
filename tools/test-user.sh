#!/bin/sh
# Creates the unprivileged system user the exec driver's tests run
# commands as when the tests run as root (exec.run_as: purser-exec).
# Idempotent; does nothing unless run as root.
set -eu
user=purser-exec
[ "$(id -u)" -eq 0 ] || exit 0
id -u "$user" >/dev/null 2>&1 && exit 0
useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
