# Pulse: the otelcol-pulse distribution and its components.
#
#   make run    build and start bin/otelcol-pulse with config/pulse.yaml
#   make test   the whole test suite (CI runs it through .ci/run)
#   make build  bin/otelcol-pulse and bin/pulsectl; does nothing when nothing changed
#   make bench  the testbed: Pulse against the stock-component baseline and a
#               real Prometheus, same load, same run; tables into docs/benchmarks.md
#   make bench-components  the components' go benchmarks with their peers
#   make baseline  bin/otelcol-baseline, the stock-collector benchmark peer (testbed/baseline)
#   make fuzz   every fuzz target for FUZZTIME each
#   make lint   gofmt, go vet, go mod tidy -diff, then golangci-lint (.golangci.yml;
#               make lint-tool installs only the pinned linter as .tools/golangci-lint)

GO        ?= go
TOOLS     := $(CURDIR)/.tools
OCB_VER   := v0.165.0
OCB       := $(TOOLS)/ocb-$(OCB_VER)
LINT_VER  := v2.15.0
LINT      := $(TOOLS)/golangci-lint-$(LINT_VER)
FUZZTIME  ?= 30s
BIN       := bin/otelcol-pulse
# Sources that end up in the binary: a change to any of them rebuilds it.
SOURCES   := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './_build/*' -not -path './.tools/*' -not -path './testbed/*')

PULSECTL  := bin/pulsectl

# The benchmark peer: stock contrib components only, its own ocb release.
OCB_BASELINE_VER := v0.161.0
OCB_BASELINE     := $(TOOLS)/ocb-$(OCB_BASELINE_VER)
BASELINE         := bin/otelcol-baseline

.PHONY: build pulsectl run test test-unit bench bench-components fuzz lint lint-tool clean baseline

build: $(BIN) $(PULSECTL)

# pulsectl: alert definitions to Prometheus rules, Alertmanager config and
# promtool tests (pulsectl rules compile --out DIR config/alerts).
pulsectl: $(PULSECTL)

$(PULSECTL): $(SOURCES) go.mod go.sum
	@mkdir -p bin
	$(GO) build -o $@ ./cmd/pulsectl

$(OCB):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VER)
	@mv $(TOOLS)/builder $@

# golangci-lint, pinned like ocb; .tools/golangci-lint links to it for use
# by hand (.tools/golangci-lint run ./internal/pii/...).
$(LINT):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(LINT_VER)
	@mv $(TOOLS)/golangci-lint $@
	@ln -sf $(notdir $@) $(TOOLS)/golangci-lint

# Only the linter: make lint-tool, then .tools/golangci-lint run ./pkg/...
lint-tool: $(LINT)
	@ln -sf $(notdir $(LINT)) $(TOOLS)/golangci-lint

# ocb generates the distribution's main package and go.mod under _build/.
# It runs only when the component list or the module's requirements change.
_build/main.go: builder-config.yaml go.mod go.sum | $(OCB)
	$(OCB) --config builder-config.yaml --skip-compilation
	@touch $@

$(BIN): _build/main.go $(SOURCES)
	@mkdir -p bin
	cd _build && $(GO) build -trimpath -ldflags='-s -w' -o ../$(BIN) .

# otelcol-baseline (testbed/baseline): rebuilt only when its ocb config
# changes; it has no sources in this repository.
baseline: $(BASELINE)

$(OCB_BASELINE):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_BASELINE_VER)
	@mv $(TOOLS)/builder $@

testbed/baseline/_build/main.go: testbed/baseline/builder-config.yaml | $(OCB_BASELINE)
	$(OCB_BASELINE) --config testbed/baseline/builder-config.yaml --skip-compilation
	@touch $@

$(BASELINE): testbed/baseline/_build/main.go
	@mkdir -p bin
	cd testbed/baseline/_build && $(GO) build -trimpath -ldflags='-s -w' -o ../../../$(BASELINE) .

run: $(BIN) data/privacy.key data/forget.key data/admin.token data/alerts/rules.yaml data/dashboards/pulse-dashboards.yaml data/retention/policies.json
	./$(BIN) --config config/pulse.yaml

# The default alert definitions, compiled for promstore to evaluate.
data/alerts/rules.yaml: $(PULSECTL) $(wildcard config/alerts/*)
	./$(PULSECTL) rules compile --out data/alerts config/alerts

# The built-in dashboards, compiled for Grafana (docs/dashboards.md).
data/dashboards/pulse-dashboards.yaml: $(PULSECTL) $(wildcard config/dashboards/*)
	./$(PULSECTL) dashboards compile --out data/dashboards config/dashboards

# The retention policies: downsampling rules and promstore's plan (docs/retention.md).
data/retention/policies.json: $(PULSECTL) $(wildcard config/retention/*)
	./$(PULSECTL) retention compile --out data/retention config/retention

# Local secrets for `make run`, created once; data/ is git-ignored.
data/%.key data/%.token:
	@mkdir -p data && umask 077 && head -c 32 /dev/urandom | base64 > $@ && echo "created $@"

# Unit tests run with the race detector. The packages that start $(BIN)
# as a process (the end-to-end tests and the bench smoke test) run without
# it: the binary is not built with -race, and it would only slow their load
# generators down.
PROC_PKGS := ./testbed/e2e/ ./testbed/bench/
test: $(BIN) $(PULSECTL) lint
	$(GO) test -race -count=1 -timeout 30m $$($(GO) list ./... | grep -v -e '/testbed/e2e$$' -e '/testbed/bench$$')
	PULSE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m $(PROC_PKGS)

test-unit:
	$(GO) test -count=1 ./...

# gofmt, vet and tidy first (quick, and their messages are the clearest),
# then golangci-lint with .golangci.yml.
lint: | $(LINT)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	$(LINT) run ./...

# About 4 minutes once both binaries are built (the first baseline build
# takes 5 to 10). Needs Debian's prometheus: apt-get install prometheus.
bench: $(BIN) $(PULSECTL) $(BASELINE)
	$(GO) run ./testbed/bench -out docs/benchmarks.md

bench-components:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./receiver/analyticsreceiver/internal/decoder/ ./processor/privacyprocessor/ ./connector/analyticsmetricsconnector/

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin _build
