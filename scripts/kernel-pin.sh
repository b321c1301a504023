#!/usr/bin/env bash
# Moves image/kernel.lock to the Debian kernel package that linux-image-amd64
# resolves to now (the archive serves only the newest security update), with
# its sha256. Commit the changed lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "kernel-pin: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null)
sum=$(sha256sum "$tmp"/*.deb | cut -d' ' -f1)
old=$(awk '$1=="version" {print $2}' image/kernel.lock)
sed -i -e "s/^package .*/package $pkg/" -e "s/^version .*/version $ver/" -e "s/^sha256 .*/sha256 $sum/" image/kernel.lock
echo "kernel-pin: $pkg $ver (was $old), sha256 $sum"
