#!/usr/bin/env bash
# Installs Debian's `prometheus` package (prometheus + promtool) when promtool is missing.
# The package's service must not start: there is no systemd here, and the tests start
# their own Prometheus on a private port. A policy-rc.d answering 101 tells invoke-rc.d
# not to start anything; we add one only for the install when the machine has none.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-prometheus: promtool is missing and installing it needs root (apt-get install prometheus)" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
added_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  added_policy=true
fi
cleanup() { if [ "$added_policy" = true ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "ensure-prometheus: installing Debian package prometheus"
# An install from stale or absent package lists fails: refresh them once and retry.
if ! apt-get install -y --no-install-recommends prometheus; then
  apt-get update
  apt-get install -y --no-install-recommends prometheus
fi

command -v promtool >/dev/null
command -v prometheus >/dev/null
