#!/usr/bin/env bash
# ensure-package.sh COMMAND PACKAGE: installs Debian's PACKAGE when COMMAND is missing (apt-get,
# as root or through sudo). Used by the test script (nginx for the replica tests) and bench/.
set -euo pipefail
cmd="$1" pkg="$2"
if command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" ]]; then exit 0; fi
command -v apt-get >/dev/null 2>&1 || { echo "ensure-package.sh: $cmd is missing and apt-get is not available" >&2; exit 1; }
SUDO=()
if (( EUID != 0 )); then
  command -v sudo >/dev/null 2>&1 || { echo "ensure-package.sh: $cmd is missing; install the Debian package '$pkg' (needs root)" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "ensure-package.sh: installing Debian's $pkg" >&2
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null \
  || { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$cmd" ]]; then
  echo "ensure-package.sh: $cmd is still missing after installing $pkg" >&2
  exit 1
fi
