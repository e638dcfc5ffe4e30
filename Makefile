# mx_exporter: the everyday commands. `make help` lists them.

GO         ?= go
BINARY     ?= mx_exporter
VERSION    := $(shell cat VERSION)
REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER := $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
BUILD_DATE := $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS    := -s -w \
	-X $(VERSION_PKG).Version=$(VERSION) \
	-X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) \
	-X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

# The Debian packages the tests use besides the test servers' own (.ci/testenv
# installs those): a C compiler for the race detector, Prometheus and
# Alertmanager (with promtool and amtool), a browser for the /status page,
# systemd-analyze, git for the version stamp.
TEST_PACKAGES := gcc libc6-dev git prometheus prometheus-alertmanager chromium fonts-liberation systemd

# golangci-lint, pinned; `make lint` installs it as a Go tool when the one on
# hand is another version.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(shell $(GO) env GOPATH)/bin/golangci-lint

.PHONY: help build test deps lint testenv run clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## a static binary ./mx_exporter, stamped with VERSION and the git revision
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BINARY) ./cmd/mx_exporter

test: deps ## the README's test command: every test, against the real test servers
	.ci/testenv up
	$(GO) test -race -count=1 ./...

deps: ## install what the tests use, if missing (Debian packages; root, or sudo)
	.ci/testenv install $(TEST_PACKAGES)

lint: ## golangci-lint (the pinned version, installed if missing) with .golangci.yml
	@$(GOLANGCI_LINT) version 2>/dev/null | grep -q 'version $(GOLANGCI_LINT_VERSION:v%=%) ' || \
		$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	$(GOLANGCI_LINT) run ./...

testenv: ## start the local test servers (Postfix, nsd on 127.0.x.x; installs them if missing; root, or sudo)
	.ci/testenv up

run: build testenv ## the daemon on the local test servers, http://localhost:9725/status
	./$(BINARY) serve --config.file=deploy/examples/testenv.yml

clean: ## remove the binary
	rm -f $(BINARY)
