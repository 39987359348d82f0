# The two commands of the README: `make run` and `make test`.
# Both run scripts/setup first, which installs only what is missing.

SHELL := /bin/bash
export GOMLX_NO_AUTO_INSTALL := 1
BIN := bin/trueframe
SAMPLE ?= $(firstword $(wildcard $(or $(TRUEFRAME_SHARED),../shared)/data/videos/real/portrait/d3.mp4))
GOTESTFLAGS ?= -count=1 -timeout 40m

.PHONY: setup build run scan test bench bench-serve bench-cluster clean

setup:
	@scripts/setup

# -buildvcs=auto: stamp the git revision into the binary (trueframe version)
# even where GOFLAGS turns stamping off.
build: setup
	go build -buildvcs=auto -o $(BIN) ./cmd/trueframe

# The service on the embedded defaults (127.0.0.1:8080, ./data). It prints
# the URL, a first admin key on first start, and a curl example.
run: build
	$(BIN) serve --example-file "$(or $(SAMPLE),video.mp4)"

# One file through the command line, no service.
scan: build
	@if [ -f "$(SAMPLE)" ]; then $(BIN) scan $(SAMPLE); \
	else echo "no sample clip found: run 'make scan SAMPLE=path/to/video'"; exit 1; fi

# The tests run against real engines, a throwaway PostgreSQL and an S3
# server (scripts/test-engines), stopped however the tests end.
test: setup
	@trap 'scripts/test-engines stop' EXIT && engines=$$(scripts/test-engines start) && eval "$$engines" && \
	set -x && go vet ./... && go test $(GOTESTFLAGS) ./...

# The speed goal is stated for 720p: d13 is the shared 720×1280 clip.
BENCH_CLIP ?= $(firstword $(wildcard $(or $(TRUEFRAME_SHARED),../shared)/data/videos/real/portrait/d13.mp4) $(SAMPLE))
bench: build
	$(BIN) bench $(BENCH_CLIP)

# The service under load on loopback: 200 uploads of a short clip, 20 at a time.
LOAD_CLIP ?= $(firstword $(wildcard $(or $(TRUEFRAME_SHARED),../shared)/data/videos/real/grid/bbaf2n.mpg))
bench-serve: build
	go run ./internal/tools/loadbench -bin $(BIN) -clip "$(LOAD_CLIP)" -n 200 -c 20

# Several nodes on loopback (PostgreSQL + SeaweedFS started for the run):
# jobs per minute of the embedded default, of 1 API + 1 worker node and of
# 1 API + 2 worker nodes, then the queue's own cost per job.
bench-cluster: build
	@trap 'scripts/test-engines stop' EXIT && engines=$$(scripts/test-engines start) && eval "$$engines" && \
	go run ./internal/tools/benchcluster -bin $(BIN) -clip "$(LOAD_CLIP)" -n 100 -c 20 && \
	go test -run XXX -bench QueueOverhead -benchtime 1000x ./api/jobs

clean:
	rm -rf bin
