# bgfetch: `make demo` serves the demo, `make test` runs every test (installing browsers if needed).
GO         ?= go
ADDR       ?= 127.0.0.1:8080
GOROOT     := $(shell $(GO) env GOROOT)
JS_SOURCES := $(sort $(wildcard js/*.js))
GO_SOURCES := $(shell find wasm bridge -name '*.go' -not -name '*_test.go') go.mod go.sum

.PHONY: all dist demo test vet unit bridge-test e2e bench bench-smoke browsers clean

all: dist

dist: dist/bgfetch.js dist/bgfetch.wasm dist/wasm_exec.js dist/bgfetch.d.ts

# Comments and indentation are left out (a third less gzip); js/ holds no template literal, whose
# lines they would change (vet checks), and no string with " // " in it, which would be left
# unterminated (vet's node --check fails). The shim names its module's build (the first 8 bytes of
# its SHA-256), under which a worker keeps the module for offline starts.
dist/bgfetch.js: $(JS_SOURCES) dist/bgfetch.wasm Makefile
	@mkdir -p dist
	cat $(JS_SOURCES) | sed -E '/^[[:space:]]*\/\//d; s/^[[:space:]]+//; s#[[:space:]]+// .*$$##' \
	  | sed "s/__BGFETCH_BUILD__/$$(sha256sum dist/bgfetch.wasm | cut -c1-16)/" > $@

# -gcflags=all=-l: without inlining the module is ~55 KB smaller in brotli (README, Performance).
dist/bgfetch.wasm: $(GO_SOURCES) Makefile
	@mkdir -p dist
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -gcflags=all=-l -o $@ ./wasm

dist/wasm_exec.js: $(GOROOT)/lib/wasm/wasm_exec.js
	@mkdir -p dist
	cp $< $@

dist/bgfetch.d.ts: js/bgfetch.d.ts
	@mkdir -p dist
	cp $< $@

demo: dist
	$(GO) run ./web/serve -addr $(ADDR) -dist dist -site web/site

test: vet unit bridge-test e2e bench-smoke

vet: dist/bgfetch.js
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./bridge/ ./wasm/
	@test -z "$$(gofmt -l wasm bridge web)" || { echo "gofmt needed:"; gofmt -l wasm bridge web; exit 1; }
	node --check dist/bgfetch.js
	@! grep -n '`' $(JS_SOURCES) || { echo "js/ must not use template literals (see dist/bgfetch.js)"; exit 1; }

unit:
	$(GO) test -race -count=1 ./wasm/... ./web/server/

.bin/wasmexec: $(shell find web/e2e -name '*.go' -not -name '*_test.go')
	$(GO) build -o $@ ./web/e2e/wasmexec

bridge-test: browsers .bin/wasmexec
	WASMEXEC_SCRIPTS=$(CURDIR)/js/55-io.js GOOS=js GOARCH=wasm $(GO) test -count=1 -exec "$(CURDIR)/.bin/wasmexec" ./bridge/

# The conformance table (scenarios passing per configuration) is printed even when all pass.
# -p 1: one package at a time, so no more than one package's browsers run at once.
e2e: browsers dist
	@mkdir -p .bin && rm -f .bin/conformance.txt
	BGFETCH_SUMMARY=$(CURDIR)/.bin/conformance.txt $(GO) test -p 1 -count=1 -timeout 25m ./web/e2e/...; \
	  status=$$?; cat .bin/conformance.txt 2>/dev/null; exit $$status

# Performance figures beside their targets (README "Performance"); not part of make test.
bench: browsers dist
	$(GO) run ./web/bench -runs 3 -out bench/results.json

# A few seconds of the benchmark with tiny sizes, in Chromium: keeps make bench working.
bench-smoke: browsers dist
	$(GO) run ./web/bench -quick -out .bin/bench-smoke.json

# Debian's chromium, firefox-esr and WebKitGTK's driver with MiniBrowser (run under xvfb-run);
# installed when missing (needs root and the package mirror).
BROWSER_PACKAGES = chromium firefox-esr webkit2gtk-driver xvfb
browsers:
	@if ! command -v chromium >/dev/null || ! command -v firefox-esr >/dev/null || \
	    ! command -v WebKitWebDriver >/dev/null || ! command -v xvfb-run >/dev/null; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make test needs $(BROWSER_PACKAGES); run as root to install them"; exit 1; fi; \
	  echo "installing $(BROWSER_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null \
	    || { echo "could not install $(BROWSER_PACKAGES) with apt-get"; exit 1; }; \
	fi

clean:
	rm -rf dist .bin
