# The two commands of the README: `make run` and `make test`.
# Both run scripts/setup first, which installs only what is missing.

SHELL := /bin/bash
export GOMLX_NO_AUTO_INSTALL := 1
BIN := bin/trueframe
SAMPLE ?= $(firstword $(wildcard $(or $(TRUEFRAME_SHARED),../shared)/data/videos/real/portrait/d3.mp4))
GOTESTFLAGS ?= -count=1 -timeout 25m

.PHONY: setup build run test bench clean

setup:
	@scripts/setup

build: setup
	go build -o $(BIN) ./cmd/trueframe

run: build
	@if [ -f "$(SAMPLE)" ]; then $(BIN) scan $(SAMPLE); \
	else echo "no sample clip found: run 'make run SAMPLE=path/to/video'"; exit 1; fi

test: setup
	go vet ./...
	go test $(GOTESTFLAGS) ./...

bench: build
	$(BIN) bench $(SAMPLE)

clean:
	rm -rf bin
