#!/usr/bin/env bash
# Installs Debian packages whose programs are missing (needs root, as on CI and the
# dev machines), and stops any system service they start: the tests and benchmarks
# run their own instances.
#
#   ensure-debian-packages.sh "<who needs them>" package=program [package=program …]
set -euo pipefail
purpose="$1"; shift
declare -A program_of=()
missing=()
for pair in "$@"; do
  pkg="${pair%%=*}"; program="${pair#*=}"
  program_of[$pkg]="$program"
  command -v "$program" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing ${missing[*]} and not root: install Debian's ${missing[*]} package(s) first" >&2
  exit 1
fi
echo "installing Debian's ${missing[*]} for $purpose" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do
  for service in "$pkg" "${program_of[$pkg]}"; do
    (systemctl stop "$service" 2>/dev/null || service "$service" stop 2>/dev/null || true) >/dev/null 2>&1
  done
  command -v "${program_of[$pkg]}" >/dev/null
done
