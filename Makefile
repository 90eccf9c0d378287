# berth: `make run` and `make test` are the two commands a fresh Debian
# machine needs (README.md). Both install what is missing first.

SHELL := /bin/bash
export PATH := /usr/local/go/bin:/usr/local/sbin:$(PATH)
GO ?= go
BIN := $(CURDIR)/_output/bin
# The CRI runtime_version is semver: the release in internal/version plus the
# commit as build metadata ("0.1.0-dev+1a2b3c4.dirty").
COMMIT ?= $(shell c=$$(git rev-parse --short HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null || c=$$c.dirty; echo $$c; })
LDFLAGS := -X github.com/berth-dev/berth/internal/version.commit=$(COMMIT)
# The tools module pins cri-tools; its checksum is in test/tools/go.sum, not
# in the public checksum database.
TOOLS_ENV := GONOSUMDB=sigs.k8s.io/cri-tools GOFLAGS=-mod=mod

PREFIX ?= /usr/local
CNI_CONF_DIR ?= /etc/cni/net.d

.PHONY: chaos soak fuzz fuzz-short all build build-race deps tools install cni-config run test unit integration critest critest-progress e2e-node e2e-node-subset e2e-node-build bench bench-cri lint clean

all: build

# Static, without cgo: berth needs nothing of libc (Go's own DNS resolver and
# /etc/passwd reader do), and not mapping libc and the loader keeps ~1.4 MiB
# off the daemon's RSS.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/berth ./cmd/berth

# The daemon with the race detector, for the integration tests and critest:
# their parallel pods, containers and streams check berth itself for races
# (the runners fail on any race report in its log).
build-race:
	$(GO) build -race -ldflags "$(LDFLAGS)" -o $(BIN)/berth-race ./cmd/berth

deps:
	bash hack/install-deps.sh

# The test bench: critest and crictl from cri-tools v1.36.0, the test
# registry and the report printer.
tools:
	cd test/tools && $(TOOLS_ENV) $(GO) build -o $(BIN)/crictl sigs.k8s.io/cri-tools/cmd/crictl
	cd test/tools && $(TOOLS_ENV) $(GO) test -c -o $(BIN)/critest sigs.k8s.io/cri-tools/cmd/critest
	$(GO) build -o $(BIN)/testregistry ./test/cmd/testregistry
	$(GO) build -o $(BIN)/critestreport ./test/cmd/critestreport

install: build
	install -D -m 0755 $(BIN)/berth $(DESTDIR)$(PREFIX)/bin/berth
	@if [ ! -e $(DESTDIR)/etc/berth/berth.toml ]; then \
		install -d -m 0755 $(DESTDIR)/etc/berth/berth.toml.d && \
		$(BIN)/berth config > $(DESTDIR)/etc/berth/berth.toml && \
		echo "installed /etc/berth/berth.toml"; fi
	install -D -m 0644 hack/berth.service $(DESTDIR)/etc/systemd/system/berth.service
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5
	$(BIN)/berth man 8 > $(DESTDIR)$(PREFIX)/share/man/man8/berth.8
	$(BIN)/berth man 5 > $(DESTDIR)$(PREFIX)/share/man/man5/berth.toml.5
	$(MAKE) cni-config

# A default pod network (bridge berth0 + host-local + portmap) when the CNI
# config dir has none; an existing network is never touched.
cni-config:
	@install -d -m 0755 $(DESTDIR)$(CNI_CONF_DIR)
	@if ! ls $(DESTDIR)$(CNI_CONF_DIR) | grep -qE '\.(conflist|conf|json)$$'; then \
		install -m 0644 hack/cni/10-berth.conflist $(DESTDIR)$(CNI_CONF_DIR)/10-berth.conflist && \
		echo "installed $(CNI_CONF_DIR)/10-berth.conflist"; fi

run: deps build cni-config
	$(BIN)/berth

test: deps build build-race tools lint unit fuzz-short integration critest-progress e2e-node-subset

unit:
	$(GO) test -race -count=1 ./...

integration: build-race
	BERTH_BINARY=$(BIN)/berth-race $(GO) test -race -count=1 -timeout 30m -tags integration ./test/integration/...

# The chaos test for longer: berth killed CHAOS_ROUNDS times under load
# (make test runs it with 4).
CHAOS_ROUNDS ?= 50
chaos: build-race
	BERTH_BINARY=$(BIN)/berth-race BERTH_CHAOS_ROUNDS=$(CHAOS_ROUNDS) $(GO) test -race -count=1 -timeout 60m -tags integration -run TestChaos -v ./test/integration/...

# The soak for long: SOAK_CYCLES pod lifecycles (make test runs 60), then
# berth's goroutines, fds and RSS against their baseline, and leak checks.
SOAK_CYCLES ?= 1000
soak: build-race
	BERTH_BINARY=$(BIN)/berth-race BERTH_SOAK_CYCLES=$(SOAK_CYCLES) $(GO) test -race -count=1 -timeout 120m -tags integration -run TestSoak -v ./test/integration/...

# Fuzz targets: CRI request translation, the config parser, image
# references and layer unpacking. make test runs each for a few seconds;
# make fuzz for longer (FUZZTIME=10m make fuzz). A failure's input lands in
# the package's testdata/fuzz, which then runs as a regular test.
FUZZ_TARGETS := FuzzContainerConfig:./server:15000x FuzzSandboxConfig:./server:15000x FuzzLoad:./config:3000x FuzzParseReference:./image:7000x FuzzUnpackLayer:./image:200x FuzzImportArchive:./image:300x FuzzHostsToml:./image:3000x
FUZZTIME ?= 2m

# Each target is NAME:PACKAGE:SHORT, SHORT being the executions make test
# runs (a few seconds' worth each): a count, not a duration, because Go
# 1.26's fuzz coordinator can fail a clean run with "context deadline
# exceeded" when a duration ends mid-execution (golang/go#75804, fixed in
# Go 1.27).
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; rest=$${t#*:}; pkg=$${rest%%:*}; budget=$(FUZZTIME); \
		[ "$$budget" = short ] && budget=$${rest#*:}; \
		echo "fuzz $$name ($$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $$budget $$pkg; done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=short

# critest with the specs not built yet skipped, on the race-built daemon:
# must pass with the counts per group in test/critest/expected.txt.
critest-progress: build-race
	BIN=$(BIN) BERTH=$(BIN)/berth-race test/critest/run.sh --skip-file test/critest/skip.txt --expect test/critest/expected.txt

# The whole critest, nothing skipped: shows how far berth is.
critest: deps build tools
	BIN=$(BIN) test/critest/run.sh

# Kubernetes' node e2e suite with a real kubelet v1.37.2 (test/e2enode):
# kubelet, e2e_node.test and agnhost are built once from Go modules into
# /var/cache/berth/e2e-node/<version> (about 20 minutes cold on 2 cores).
e2e-node-build:
	test/e2enode/build.sh >/dev/null

# The [NodeConformance] focus, less test/e2enode/skip.txt.
e2e-node: deps build tools cni-config e2e-node-build
	BIN=$(BIN) test/e2enode/run.sh --skip-file test/e2enode/skip.txt

# The bounded subset `make test` runs (test/e2enode/subset.txt).
e2e-node-subset: build tools cni-config e2e-node-build
	BIN=$(BIN) test/e2enode/run.sh --subset test/e2enode/subset.txt --skip-file test/e2enode/skip.txt

# Benchmarks (never timed assertions in tests): image pull throughput.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x -benchmem ./image/
	cd test/integration && BERTH_BINARY=$(abspath $(BIN))/berth $(GO) test -tags integration -run '^$$' -bench . -benchtime 20x .

# The side-by-side CRI bench (test/cmd/bench-cri): a private berth on its
# default config beside the floor (netns, CNI ADD, runc run of pause and
# container, done directly), and the same pods again through crictl, a
# table on stdout and $(BIN)/bench-cri.json.
# Another runtime: $(BIN)/bench-cri -endpoint unix:///... -pid PID.
bench-cri: deps build tools
	$(GO) build -o $(BIN)/bench-cri ./test/cmd/bench-cri
	$(BIN)/bench-cri -berth $(BIN)/berth -crictl $(BIN)/crictl -out $(BIN)/bench-cri.json $(BENCH_CRI_ARGS)

lint:
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/integration/...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf _output
