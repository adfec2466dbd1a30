#!/usr/bin/env bash
# `npm run bench -- peers` runs the scrapers we compare with: Debian's prometheus
# and vmagent (package victoria-metrics). Install them when missing (needs root, as
# on CI and the dev machines); the benchmark runs its own instances of both.
set -euo pipefail
declare -A tool_of=([prometheus]=prometheus [victoria-metrics]=vmagent)
missing=()
for pkg in prometheus victoria-metrics; do
  command -v "${tool_of[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing ${missing[*]} and not root: install Debian's ${missing[*]} package(s) first" >&2
  exit 1
fi
echo "installing Debian's ${missing[*]} for the peers benchmark" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages start system services on some hosts; the benchmark runs its own instances.
for service in prometheus victoria-metrics vmagent; do
  (systemctl stop "$service" 2>/dev/null || service "$service" stop 2>/dev/null || true) >/dev/null 2>&1
done
for pkg in "${missing[@]}"; do command -v "${tool_of[$pkg]}" >/dev/null; done
