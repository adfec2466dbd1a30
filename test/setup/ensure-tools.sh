#!/usr/bin/env bash
# The end-to-end tests use real programs: Prometheus scrapes our endpoint,
# headless Chromium loads our status page, and systemd-analyze checks the shipped
# systemd unit. Debian's packages are installed when missing.
exec bash "$(dirname "$0")/ensure-debian-packages.sh" "the end-to-end tests" \
  prometheus=prometheus chromium=chromium systemd=systemd-analyze
