#!/usr/bin/env bash
# The end-to-end tests scrape us with the real Prometheus server. Install Debian's
# package when it is missing (needs root, as on CI and the dev machines).
set -euo pipefail
if command -v prometheus >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "prometheus is not installed and we are not root: install Debian's 'prometheus' package first" >&2
  exit 1
fi
echo "installing Debian's prometheus package for the end-to-end tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package starts a system service on some hosts; the tests run their own instance.
(systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || true) >/dev/null 2>&1
command -v prometheus >/dev/null
