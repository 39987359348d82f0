// Command solc compiles one Solidity contract with the solcjs compiler pinned
// in the contract directory's package-lock.json (npm solc, run through node)
// and writes its ABI (NAME.abi) and creation bytecode (NAME.bin) next to the
// source, for abigen. ledger/contracts/gen.go runs it through go generate.
//
// It uses solc's standard-JSON interface so that every setting that changes
// the bytecode (EVM version, optimizer, metadata) is spelled out here, not
// left to compiler defaults that could change between releases.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
)

func main() {
	src := flag.String("src", "", "Solidity source file, relative to -dir")
	name := flag.String("contract", "", "contract name (default: the source file's base name)")
	dir := flag.String("dir", ".", "directory holding the source and node_modules/solc")
	version := flag.String("version", "", "required solc version (e.g. 0.8.37); a mismatch is an error")
	evm := flag.String("evm", "cancun", "target EVM version")
	runs := flag.Int("optimize-runs", 200, "optimizer runs")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(*src), ".sol")
	}
	err := run(ctx, *dir, *src, *name, *version, *evm, *runs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "solc:", err)
		os.Exit(1)
	}
}

// compileJS reads standard-JSON input on stdin and writes solc's output.
const compileJS = `const solc = require("solc");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => { process.stdout.write(solc.compile(input)); });`

type stdInput struct {
	Language string                       `json:"language"`
	Sources  map[string]map[string]string `json:"sources"`
	Settings stdSettings                  `json:"settings"`
}

type stdSettings struct {
	EVMVersion      string                         `json:"evmVersion"`
	Optimizer       map[string]any                 `json:"optimizer"`
	Metadata        map[string]any                 `json:"metadata"`
	OutputSelection map[string]map[string][]string `json:"outputSelection"`
}

type stdOutput struct {
	Errors []struct {
		Severity         string `json:"severity"`
		FormattedMessage string `json:"formattedMessage"`
	} `json:"errors"`
	Contracts map[string]map[string]struct {
		ABI json.RawMessage `json:"abi"`
		EVM struct {
			Bytecode struct {
				Object string `json:"object"`
			} `json:"bytecode"`
		} `json:"evm"`
	} `json:"contracts"`
}

func run(ctx context.Context, dir, src, name, version, evm string, runs int) error {
	if src == "" {
		return errors.New("-src is required")
	}
	code, err := os.ReadFile(filepath.Join(dir, src))
	if err != nil {
		return err
	}
	if err := checkVersion(dir, version); err != nil {
		return err
	}
	in := stdInput{
		Language: "Solidity",
		Sources:  map[string]map[string]string{src: {"content": string(code)}},
		Settings: stdSettings{
			EVMVersion: evm,
			Optimizer:  map[string]any{"enabled": true, "runs": runs},
			// The metadata hash commits to the source and settings only, so
			// the bytecode is reproducible (CI regenerates and diffs it).
			Metadata:        map[string]any{"bytecodeHash": "ipfs"},
			OutputSelection: map[string]map[string][]string{src: {name: {"abi", "evm.bytecode.object"}}},
		},
	}
	input, err := json.Marshal(in)
	if err != nil {
		return err
	}
	// solc.js --standard-json prints a notice about SMT solvers on stdout
	// before the JSON, so call the library's compile directly instead.
	cmd := exec.CommandContext(ctx, "node", "-e", compileJS)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running solcjs: %w: %s", err, stderr.Bytes())
	}
	var out stdOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return fmt.Errorf("decoding solcjs output: %w", err)
	}
	var failed []string
	for _, e := range out.Errors {
		// Warnings fail the build too: the contract is small enough to keep clean.
		failed = append(failed, e.FormattedMessage)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s:\n%s", src, strings.Join(failed, "\n"))
	}
	c, ok := out.Contracts[src][name]
	if !ok || c.EVM.Bytecode.Object == "" {
		return fmt.Errorf("contract %s not found in %s", name, src)
	}
	var abi bytes.Buffer
	if err := json.Indent(&abi, c.ABI, "", "  "); err != nil {
		return err
	}
	abi.WriteByte('\n')
	if err := os.WriteFile(filepath.Join(dir, name+".abi"), abi.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".bin"), []byte(c.EVM.Bytecode.Object+"\n"), 0o644)
}

// checkVersion fails when the installed solc package is not the pinned one,
// so that a stale node_modules cannot silently produce different bytecode.
func checkVersion(dir, want string) error {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "solc", "package.json"))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("solc is not installed in %s: run `npm ci --ignore-scripts` there (scripts/check-generated does)", dir)
	}
	if err != nil {
		return err
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("reading solc's package.json: %w", err)
	}
	if want != "" && pkg.Version != want {
		return fmt.Errorf("solc %s is installed in %s, want %s: run `npm ci --ignore-scripts` there", pkg.Version, dir, want)
	}
	return nil
}
