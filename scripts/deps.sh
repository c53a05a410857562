#!/usr/bin/env bash
# Installs the Debian 12 packages listed in scripts/debian-packages.txt that
# are missing. Silent when everything is present. As root it runs apt-get;
# otherwise it prints the command to run and exits 1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list="${SEAM_PACKAGES:-$here/debian-packages.txt}"

if [ ! -r "$list" ]; then
    echo "deps.sh: cannot read $list" >&2
    exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: dpkg-query not found; seam's build expects Debian 12" >&2
    exit 1
fi

missing=()
while IFS= read -r line || [ -n "$line" ]; do
    package="${line%%#*}"                  # drop comments
    package="${package//[[:space:]]/}"     # and whitespace
    [ -n "$package" ] || continue
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$package")
    fi
done < "$list"

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

install=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
    echo "seam: missing Debian packages: ${missing[*]}" >&2
    echo "seam: install them as root with:" >&2
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive ${install[*]}" >&2
    exit 1
fi

echo "seam: installing missing Debian packages: ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive "${install[@]}"

# Check again: apt-get can succeed without installing what we asked for.
still=()
for package in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || still+=("$package")
done
if [ ${#still[@]} -ne 0 ]; then
    echo "seam: still missing after apt-get install: ${still[*]}" >&2
    exit 1
fi
