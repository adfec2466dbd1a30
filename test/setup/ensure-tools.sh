#!/usr/bin/env bash
# The end-to-end tests use real programs: Prometheus scrapes our endpoint,
# headless Chromium loads our status page, and systemd-analyze checks the shipped
# systemd unit. Install Debian's packages when they are missing (needs root, as on
# CI and the dev machines).
set -euo pipefail
# Debian package -> the program the tests run.
declare -A tool_of=([prometheus]=prometheus [chromium]=chromium [systemd]=systemd-analyze)
missing=()
for pkg in prometheus chromium systemd; do
  command -v "${tool_of[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing ${missing[*]} and not root: install Debian's ${missing[*]} package(s) first" >&2
  exit 1
fi
echo "installing Debian's ${missing[*]} for the end-to-end tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The prometheus package starts a system service on some hosts; the tests run their own instance.
(systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || true) >/dev/null 2>&1
for pkg in "${missing[@]}"; do command -v "${tool_of[$pkg]}" >/dev/null; done
