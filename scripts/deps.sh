#!/usr/bin/env bash
# Installs what the build and the tests need: the Debian packages of
# scripts/packages.txt and the Go modules. Checks first that Go is there at
# the version go.mod needs, and says exactly what to install when it is not.
# Idempotent and quiet when everything is already there.
#
#   scripts/deps.sh            everything (as root: sudo make deps)
#   scripts/deps.sh --go-only  only the Go check (no root needed)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# go_need prints the Go release go.mod's go directive names (1.26.0).
go_need() {
	sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' go.mod
}

# version_lt A B: whether Go release A is older than B (1.26 counts as 1.26.0).
version_lt() {
	local a=$1 b=$2
	[[ $a =~ ^[0-9]+\.[0-9]+$ ]] && a=$a.0
	[[ $b =~ ^[0-9]+\.[0-9]+$ ]] && b=$b.0
	[ "$a" != "$b" ] && [ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | head -n1)" = "$a" ]
}

# go_install_help prints how to install Go from go.dev: Debian's and
# Ubuntu's golang packages are older than what go.mod needs.
go_install_help() {
	local need=$1 arch
	case "$(uname -m)" in
	x86_64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) arch="$(uname -m)" ;;
	esac
	cat >&2 <<-HELP
		deps: install Go $need or later from go.dev (Debian's and Ubuntu's golang packages are
		deps: older). The newest release listed at https://go.dev/dl/ is best; for example:

		    v=$need   # or the newest release at https://go.dev/dl/
		    curl -fsSLO https://go.dev/dl/go\$v.linux-$arch.tar.gz
		    sudo rm -rf /usr/local/go && sudo tar -C /usr/local -xzf go\$v.linux-$arch.tar.gz
		    echo 'export PATH=\$PATH:/usr/local/go/bin' >> ~/.profile && export PATH=\$PATH:/usr/local/go/bin

		deps: the Makefile finds /usr/local/go/bin under sudo too (sudo resets PATH).
	HELP
}

# check_go fails, saying what to install, unless $GO runs a release at
# least as new as go.mod's go directive.
check_go() {
	local need have cmp
	need=$(go_need)
	if [ -z "$need" ]; then
		echo "deps: go.mod has no go directive" >&2
		return 1
	fi
	if ! command -v "$GO" >/dev/null; then
		echo "deps: Go is not installed (no '$GO' on PATH=$PATH); tidegate needs Go $need or later (go.mod)." >&2
		go_install_help "$need"
		return 1
	fi
	# GOVERSION is what builds here: with GOTOOLCHAIN=auto (Go 1.21 and
	# later) an older go has already switched to the release go.mod names.
	# Go 1.20 and older have no GOTOOLCHAIN and fail on go.mod instead.
	have=$("$GO" env GOVERSION 2>/dev/null || true)
	have=${have#go}
	cmp=$have
	if [[ $have =~ ^([0-9]+)\.([0-9]+)(rc|beta) ]]; then
		# A release candidate of 1.N comes after every 1.(N-1).x and
		# before 1.N.0.
		cmp=${BASH_REMATCH[1]}.$((BASH_REMATCH[2] - 1)).999
	fi
	if ! [[ $cmp =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || version_lt "$cmp" "$need"; then
		echo "deps: $(command -v "$GO") is Go ${have:-of an unknown version} ($("$GO" version 2>/dev/null || true)); tidegate needs Go $need or later (go.mod)." >&2
		go_install_help "$need"
		return 1
	fi
	echo "deps: Go $have ($(command -v "$GO")); go.mod needs $need or later"
}

check_go
if [ "${1:-}" = --go-only ]; then
	exit 0
fi

# make image takes the kernel (image/kernel.lock) and charon from the
# machine's Debian 12 archive and packages.
. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
	echo "deps: this is ${PRETTY_NAME:-not Debian}: make image (and so make lab and make test) needs Debian 12, whose archive serves the pinned kernel (image/kernel.lock) and whose strongSwan the image carries; the workstation commands and the namespace tests run here" >&2
fi

mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/packages.txt)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing Debian packages (run as root to install: sudo make deps): ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The frr, keepalived, prometheus and rsyslog packages are here for their
# programs: the tests and the lab start their own FRR, keepalived,
# Prometheus and rsyslogd in network namespaces, with their own
# configuration and sockets. Debian starts the packages' system services on
# installation; the ones installed just now are stopped and disabled, since
# they would only run beside the tests (zebra managing this machine's
# routing table, a Prometheus holding port 9090, rsyslog copying the journal
# into /var/log). Services that were installed before are the machine
# owner's and left alone.
for svc in frr keepalived prometheus rsyslog; do
	[[ " ${missing[*]} " == *" $svc "* ]] || continue
	command -v systemctl >/dev/null || continue
	if systemctl is-active --quiet "$svc" 2>/dev/null || systemctl is-enabled --quiet "$svc" 2>/dev/null; then
		echo "deps: stopping and disabling the $svc system service that installing $svc started: the tests and the lab run their own $svc in network namespaces (undo: systemctl enable --now $svc)"
		systemctl disable --now --quiet "$svc" || true
	fi
done

"$GO" mod download
