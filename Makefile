# tidegate — see README.md.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO      ?= go
# e2fsprogs, kmod and grub install into sbin, which a non-root PATH may lack;
# /usr/local/go/bin is where go.dev's Go installs, which sudo's PATH lacks.
export PATH := $(PATH):/usr/sbin:/sbin:/usr/local/go/bin

# Root-run targets (sudo make lab, sudo make test, sudo make qemu) give out/
# back to the user who ran sudo, so that a later make image or make clean
# without sudo can write it. Go's caches under sudo are root's own.
OWN_OUT = if [ "$$(id -u)" = 0 ] && [ -n "$${SUDO_UID:-}" ] && [ -d out ]; then chown -R "$$SUDO_UID:$${SUDO_GID:-$$SUDO_UID}" out; fi

.PHONY: all deps image test vet fuzz qemu lab lab-down kernel-pin clean

all: image

## deps: check Go against go.mod; install the Debian packages and Go modules the build and tests need (root)
deps:
	GO=$(GO) bash scripts/deps.sh

## image: out/tidegate.img.gz, bootable on Linode (Direct Disk and GRUB 2) and in QEMU; no root needed
image:
	$(GO) run ./image/mkimage -version $(VERSION)
	@$(OWN_OUT)

## vet: go vet; go.mod and go.sum tidy; the workstation commands build and vet for macOS
# The workstation commands (validate, import-aws, render, linode, status)
# run on operators' Macs too; DARWIN_PKGS are what they link that has tests.
DARWIN_PKGS := ./init/... ./configs/... ./scripts/... ./internal/... ./services/status/... ./services/lifeline/...
vet:
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "vet: go.mod or go.sum is not tidy (the diff above): run go mod tidy" >&2; exit 1; }
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./init
	GOOS=darwin GOARCH=arm64 $(GO) vet $(DARWIN_PKGS)

## test: everything CI runs: deps, vet, the image, then every test including the QEMU boot tests
# The namespace suites mostly wait on protocol timers (BGP, VRRP, DPD), so
# four of their packages run at a time; the QEMU suites emulate CPUs and
# need both cores, so they run one package at a time, after the others.
test: deps vet image
	$(GO) test -p 4 -count=1 -timeout 25m $$($(GO) list ./... | grep -v '/qemu'); s=$$?; \
	$(GO) test -p 1 -count=1 -timeout 25m ./qemu/... || s=1; \
	$(OWN_OUT); exit $$s

## fuzz: run each fuzz target for FUZZTIME (not part of test; the seed corpora run there)
# Targets that parse what comes from outside: the AWS importer, the status
# client, the BGP path decoder, charon's list-sa events. A short
# minimization keeps an interesting input from eating the whole time.
FUZZTIME ?= 20s
FUZZ_TARGETS := FuzzParseConnection:./configs/awsimport FuzzClientStatus:./services/status \
	FuzzPathDecoder:./services/bgp FuzzListSAs:./services/ipsec
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $${t%%:*} in $${t#*:} for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t%%:*}$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=1s "$${t#*:}"; \
	done

## qemu: boot one gateway against the fake Metadata Service and DHCP, console on this terminal
# Ctrl-C ends the run but not the recipe's shell (its trap is a handler, which
# the run does not inherit), which then gives out/ back.
qemu: image
	@trap true INT TERM; $(GO) run ./qemu/cmd/tidegate-qemu -config configs/examples/seed.yaml -name vpn-gw-1; s=$$?; $(OWN_OUT); exit $$s

## lab: the reference scenario in QEMU (two gateways, an AWS peer, a VLAN host); Ctrl-C or make lab-down stops it
lab: image
	@trap true INT TERM; $(GO) run ./qemu/cmd/tidegate-lab; s=$$?; $(OWN_OUT); exit $$s

lab-down:
	@if [ -f /run/tidegate-lab.pid ]; then kill -TERM $$(cat /run/tidegate-lab.pid); else echo "no lab running"; fi

## kernel-pin: move image/kernel.lock to the kernel linux-image-amd64 resolves to now
kernel-pin:
	bash scripts/kernel-pin.sh

clean:
	rm -rf out
