#!/usr/bin/env bash
# The peers benchmark runs the scrapers people use instead: Debian's prometheus
# and vmagent (package victoria-metrics), installed when missing.
exec bash "$(dirname "$0")/../../test/setup/ensure-debian-packages.sh" "the peers benchmark" \
  prometheus=prometheus victoria-metrics=vmagent
