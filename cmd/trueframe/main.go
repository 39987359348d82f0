// Command trueframe scans videos for signs of face manipulation.
//
//	trueframe scan [--json] FILE...   analyse files and print a report
//	trueframe serve                   run the HTTP service
//	trueframe keys create --role R    create an API key (also list, revoke)
//	trueframe bench FILE              time decoding alone against the full analysis
//	trueframe version                 print the version and the models in use
//
// Settings come from flags, with TRUEFRAME_* environment variables as their
// defaults (TRUEFRAME_DEPS, TRUEFRAME_FACE_MODEL, ...).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

const version = "0.1.0-dev"

func main() {
	os.Exit(runWithSignals(os.Args[1:]))
}

// runWithSignals runs a command with Ctrl-C and SIGTERM cancelling its
// context, so that the service drains and training checkpoints.
func runWithSignals(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args)
}

// Exit codes: 0 done, 1 an analysis failed, 2 bad usage, 130 interrupted.
func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	var err error
	switch args[0] {
	case "scan":
		return cmdScan(ctx, args[1:])
	case "serve":
		err = cmdServe(ctx, args[1:])
	case "keys":
		err = cmdKeys(ctx, args[1:])
	case "register":
		err = cmdRegister(ctx, args[1:])
	case "verify":
		err = cmdVerify(ctx, args[1:])
	case "ledger":
		err = cmdLedger(ctx, args[1:])
	case "eval":
		err = cmdEval(ctx, args[1:])
	case "models":
		err = cmdModels(ctx, args[1:])
	case "detectors":
		err = cmdDetectors(ctx, args[1:])
	case "bench":
		err = cmdBench(ctx, args[1:])
	case "generate":
		err = cmdGenerate(ctx, args[1:])
	case "worker":
		err = cmdWorker(ctx)
	case "version", "--version":
		fmt.Println("trueframe", version)
		return 0
	case "help", "-h", "--help":
		usage()
		return 0
	default:
		fmt.Fprintf(os.Stderr, "trueframe: unknown command %q\n", args[0])
		usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trueframe:", err)
		if errors.Is(err, context.Canceled) {
			return 130
		}
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  trueframe scan [--json] [flags] FILE...   analyse videos for face manipulation
  trueframe serve [flags]                   run the HTTP service (see serve -h)
  trueframe keys create --role R | list | revoke ID   manage API keys
  trueframe register [--meta M] [--batch] FILE...   register originals on the ledger
  trueframe verify FILE...                  check files against the registered originals
  trueframe ledger status | reindex | revoke SHA256 --reason R
  trueframe eval [--split test] [--perturb] [--json] [--plot roc.png] [SOURCE]   measure detection
  trueframe detectors crops|train ...       train the learned detectors (see detectors -h)
  trueframe models list|show|activate|add|verify   model versions and the active ones
  trueframe bench [flags] FILE              decode-only vs full-analysis speed
  trueframe generate extract|train|swap|dataset ...   face-swap generator (see generate -h)
  trueframe version
Run "trueframe scan -h" for the flags.
`)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envInt, envFloat and envDuration read a flag's default from the
// environment; a malformed value is reported and the default kept.
func envInt(name string, def int) int {
	return envParse(name, def, strconv.Atoi)
}

func envFloat(name string, def float64) float64 {
	return envParse(name, def, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

func envDuration(name string, def time.Duration) time.Duration {
	return envParse(name, def, time.ParseDuration)
}

func envParse[T any](name string, def T, parse func(string) (T, error)) T {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "trueframe: ignoring %s=%q: %v\n", name, v, err)
		return def
	}
	return x
}

// depsDir finds the directory scripts/setup installed the ONNX Runtime
// library and the models into: $TRUEFRAME_DEPS, else deps/ beside the
// binary's directory (bin/../deps), else ./deps.
func depsDir(flagValue string) (string, error) {
	if flagValue != "" {
		// Absolute, because child processes may run elsewhere.
		return filepath.Abs(flagValue)
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", "deps"))
	}
	candidates = append(candidates, "deps")
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "models")); err == nil {
			return filepath.Abs(c)
		}
	}
	return "", errors.New("models not installed: run scripts/setup (or set TRUEFRAME_DEPS)")
}
