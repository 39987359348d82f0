package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ethereum/go-ethereum/common"

	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/ledger/devchain"
)

// ledgerFlags choose the chain: the embedded dev chain in the data
// directory by default, or an external JSON-RPC node.
type ledgerFlags struct {
	data          string
	rpcURL        string
	chainID       uint64
	contract      string
	confirmations uint64
	keystore      string
	passwordFile  string
	deps          string
	maxMemory     string

	// cluster is set by serve and worker when the node shares its state
	// with others (--database postgres://…); nil for a node alone.
	cluster *ledgerCluster
}

// ledgerCluster is what the nodes of one service share for the ledger.
// The registries of all nodes read one contract on one external chain
// (--ledger-rpc: the embedded chain lives in one process); each keeps its
// own index of the contract's events in DATA/ledger, a cache.
type ledgerCluster struct {
	// Node names this node among the live ones (host:port, a pod name):
	// the lease of its signing account is held in this name.
	Node string
	// Files holds the full fingerprints and batch manifests where every
	// node reads them: the service's blob store, under a prefix of their
	// own (ledger.Files says what reads and writes must guarantee).
	Files ledger.Files
	// Signers keeps two nodes from signing with one account: a table in
	// the service's database (ledger.SignerLease shows the statement).
	// Each node that registers needs its own key (TRUEFRAME_LEDGER_KEY or
	// --ledger-keystore), added as a registrar by the contract's owner.
	Signers ledger.SignerLease
	// Contracts records the contract the nodes use when --ledger-contract
	// is empty: the first node deploys it.
	Contracts chain.ContractRecord
	// ReadOnly opens a registry that only verifies (a worker node): it
	// claims no signer, never deploys, and needs no key.
	ReadOnly bool
}

// check says what a cluster lacks.
func (c *ledgerCluster) check(lf *ledgerFlags) error {
	switch {
	case lf.rpcURL == "":
		return usageError{errors.New("nodes that share a database need one external chain: give each --ledger-rpc (the embedded chain serves one node)")}
	case c.Node == "" || c.Files == nil:
		return errors.New("ledger: a node of a cluster needs its name and the shared files")
	case !c.ReadOnly && c.Signers == nil:
		return errors.New("ledger: a node of a cluster that registers needs the signer leases")
	case lf.contract == "" && c.Contracts == nil:
		return errors.New("ledger: a node of a cluster needs --ledger-contract or the shared contract record")
	}
	return nil
}

func (lf *ledgerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&lf.data, "data", "data", "data `directory` (the ledger lives in DATA/ledger)")
	fs.StringVar(&lf.deps, "deps", "", depsUsage)
	fs.StringVar(&lf.maxMemory, "max-memory", "6GiB", "address-space cap of each worker process")
	lf.registerChain(fs)
}

// registerChain registers the flags that choose the chain.
func (lf *ledgerFlags) registerChain(fs *flag.FlagSet) {
	fs.StringVar(&lf.rpcURL, "ledger-rpc", "", "JSON-RPC `URL` of an external node (default: the embedded chain)")
	fs.Uint64Var(&lf.chainID, "ledger-chain-id", 0, "chain id the external node must report (required with --ledger-rpc)")
	fs.StringVar(&lf.contract, "ledger-contract", "", "registry contract `address` on the external node (empty: deploy one and remember it)")
	fs.Uint64Var(&lf.confirmations, "ledger-confirmations", 1, "blocks on top of a transaction before it counts (external node)")
	fs.StringVar(&lf.keystore, "ledger-keystore", "", "encrypted keystore `file` of the signing key (external node); or set TRUEFRAME_LEDGER_KEY to a hex key")
	fs.StringVar(&lf.passwordFile, "ledger-password-file", "", "`file` holding the keystore's password")
}

// openedLedger is a registry with what must be closed after it.
type openedLedger struct {
	*ledger.Registry
	closers []func()
}

func (o *openedLedger) Close() {
	o.Registry.Close()
	for i := len(o.closers) - 1; i >= 0; i-- {
		o.closers[i]()
	}
}

// open opens the chain and the registry. fp fingerprints files; nil runs
// a worker process per file.
func (lf *ledgerFlags) open(ctx context.Context, fp ledger.Fingerprinter, log *slog.Logger, opts ledger.Options) (*openedLedger, error) {
	if fp == nil {
		deps, err := depsDir(lf.deps)
		if err != nil {
			return nil, err
		}
		mem, err := parseBytes(lf.maxMemory)
		if err != nil {
			return nil, usageError{fmt.Errorf("--max-memory: %w", err)}
		}
		fp = ledger.Isolated{Run: oneShot(workerOptions(deps, mem))}
	}
	opts.Fingerprinter, opts.Log = fp, log
	if c := lf.cluster; c != nil {
		if err := c.check(lf); err != nil {
			return nil, err
		}
		opts.Files, opts.Signers, opts.Node, opts.ReadOnly = c.Files, c.Signers, c.Node, c.ReadOnly
	}
	root := filepath.Join(lf.data, "ledger")
	var c *chain.Client
	var dir string
	var closers []func()
	if lf.rpcURL == "" {
		dir = filepath.Join(root, "embedded")
		dc, err := devchain.Open(ctx, filepath.Join(dir, "chain"), nil)
		if err != nil {
			return nil, fmt.Errorf("embedded chain: %w", err)
		}
		c, closers = dc.Client(), append(closers, func() { dc.Close() })
	} else {
		e, err := lf.external(root)
		if err != nil {
			return nil, err
		}
		if c, err = chain.DialExternal(ctx, e); err != nil {
			return nil, err
		}
		// The index is the contract's: another contract starts another.
		dir = filepath.Join(root, fmt.Sprintf("%d-%s", lf.chainID, strings.ToLower(c.Contract().Hex())))
		closers = append(closers, c.Close)
	}
	r, err := ledger.Open(ctx, c, dir, opts)
	if err != nil {
		for _, f := range closers {
			f()
		}
		return nil, err
	}
	return &openedLedger{Registry: r, closers: closers}, nil
}

// external maps the chain flags, TRUEFRAME_LEDGER_KEY and the cluster
// onto what chain.DialExternal needs; root remembers the contract.
func (lf *ledgerFlags) external(root string) (chain.External, error) {
	if lf.chainID == 0 {
		return chain.External{}, usageError{errors.New("--ledger-chain-id is required with --ledger-rpc (it guards against signing for the wrong network)")}
	}
	if lf.contract != "" && !common.IsHexAddress(lf.contract) {
		return chain.External{}, usageError{fmt.Errorf("--ledger-contract %q is not an address", lf.contract)}
	}
	e := chain.External{Config: chain.Config{RPCURL: lf.rpcURL,
		Key:     chain.KeyConfig{KeystoreFile: lf.keystore, PasswordFile: lf.passwordFile, HexKey: os.Getenv("TRUEFRAME_LEDGER_KEY")},
		Options: chain.Options{ChainID: lf.chainID, Confirmations: lf.confirmations, Contract: common.HexToAddress(lf.contract)}},
		Dir: root,
		Deployed: func(addr common.Address) {
			fmt.Fprintf(os.Stderr, "deployed a new registry at %s on chain %d\n", addr.Hex(), lf.chainID)
		}}
	if c := lf.cluster; c != nil {
		e.ReadOnly, e.Shared = c.ReadOnly, c.Contracts
		e.BeforeDeploy = func(ctx context.Context, from common.Address) error {
			// ledger.Open renews this lease.
			_, err := ledger.ClaimSigner(ctx, c.Signers, from.Hex(), c.Node, 0)
			return err
		}
	}
	return e, nil
}

func cliLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// cmdRegister: trueframe register [--meta M] [--batch] FILE...
func cmdRegister(fs *flag.FlagSet) action {
	var lf ledgerFlags
	lf.register(fs)
	meta := fs.String("meta", "", "short description stored on chain with each file (a URI or a hash; at most 256 bytes)")
	batch := fs.Bool("batch", false, "anchor the files as one Merkle root (one transaction) instead of one transaction each")
	asJSON := fs.Bool("json", false, "print the records as JSON, one per line")
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usageError{errors.New("register takes at least one file")}
		}
		l, err := lf.open(ctx, nil, cliLogger(), ledger.Options{BatchSize: max(len(args), 1)})
		if err != nil {
			return err
		}
		defer l.Close()
		var failed error
		type queued struct {
			file string
			sha  [32]byte
		}
		var batched []queued
		for _, file := range args {
			if *batch {
				sha, err := l.Enqueue(ctx, file, *meta)
				if err != nil {
					failed = fmt.Errorf("%s: %w", file, err)
					fmt.Fprintln(os.Stderr, "trueframe:", failed)
					continue
				}
				batched = append(batched, queued{file, sha})
				continue
			}
			rec, err := l.Register(ctx, file, *meta)
			if err != nil {
				failed = fmt.Errorf("%s: %w", file, err)
				fmt.Fprintln(os.Stderr, "trueframe:", failed)
				continue
			}
			printRecord(os.Stdout, file, rec, *asJSON)
		}
		if len(batched) > 0 {
			if _, err := l.Flush(ctx); err != nil {
				return err
			}
			for _, q := range batched {
				rec, err := l.Lookup(ctx, q.sha)
				if err != nil {
					return err
				}
				printRecord(os.Stdout, q.file, rec, *asJSON)
			}
		}
		return failed
	}
}

func printRecord(w io.Writer, file string, rec ledger.Record, asJSON bool) {
	if asJSON {
		json.NewEncoder(w).Encode(rec)
		return
	}
	fmt.Fprintf(w, "%s\n  sha256 %s\n  registered on chain %d, contract %s\n  tx %s, block %d, %s, by %s\n",
		file, rec.SHA256, rec.ChainID, rec.Contract, rec.TxHash, rec.Block, rec.Time.Format("2006-01-02 15:04:05Z07:00"), rec.Registrar)
	if rec.Batch != nil {
		fmt.Fprintf(w, "  in batch %s (leaf %d of %d), inclusion proof verified: %v\n", rec.Batch.Root, rec.Batch.LeafIndex, rec.Batch.Count, rec.Batch.Verified)
	}
	if rec.Revoked {
		fmt.Fprintf(w, "  REVOKED: %s\n", rec.RevokeReason)
	}
}

// cmdVerify: trueframe verify [--json] FILE...
func cmdVerify(fs *flag.FlagSet) action {
	var lf ledgerFlags
	lf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON verification per file")
	evidenceRoot := fs.String("evidence-dir", "", "write the faces that differ, registered beside checked, under `DIR`/<file name>/ (default: the system temp dir)")
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usageError{errors.New("verify takes at least one file")}
		}
		l, err := lf.open(ctx, nil, cliLogger(), ledger.Options{})
		if err != nil {
			return err
		}
		defer l.Close()
		var failed error
		for _, file := range args {
			v, err := l.Verify(ctx, file)
			if err != nil {
				failed = fmt.Errorf("%s: %w", file, err)
				fmt.Fprintln(os.Stderr, "trueframe:", failed)
				continue
			}
			if *asJSON {
				json.NewEncoder(os.Stdout).Encode(v)
				continue
			}
			fmt.Printf("%s: %s\n  %s\n", file, strings.ToUpper(strings.ReplaceAll(string(v.Status), "_", " ")), v.Explanation)
			if v.Original != nil {
				printRecord(os.Stdout, "  original", *v.Original, false)
			}
			if m := v.Match; m != nil {
				fmt.Printf("  match: %.0f%% of %d samples, mean distance %.1f bits, offset %.2f s\n", 100*m.MatchedFraction, m.Samples, m.MeanDistance, m.OffsetS)
				for _, u := range m.Unmatched {
					fmt.Printf("  differs at %.2f–%.2f s\n", u.StartS, u.EndS)
				}
				for _, a := range m.Altered {
					fmt.Printf("  region changed at %.2f–%.2f s (cells %v of a %dx%d grid)\n", a.StartS, a.EndS, a.Cells, a.Grid, a.Grid)
				}
				if g := m.Geometry; g != nil {
					fmt.Printf("  compared in the original's layout: the file shows %.1f%%×%.1f%% of its frame from (%.1f%%, %.1f%%)\n", 100*g.W, 100*g.H, 100*g.X, 100*g.Y)
				}
				if !m.FacesCompared {
					fmt.Println("  faces not compared: the original was registered with a version 1 fingerprint")
				}
				for i, f := range m.Faces {
					fmt.Printf("  FACE DIFFERS: %s (%.1f times what copies show)\n", f.Description, f.Score)
					if len(f.EvidencePNG) == 0 {
						continue
					}
					root := *evidenceRoot
					if root == "" {
						root = filepath.Join(os.TempDir(), "trueframe-evidence")
					}
					dir := filepath.Join(root, evidenceName(file))
					p := filepath.Join(dir, fmt.Sprintf("provenance-face-%d-%d.png", f.Track, i+1))
					if err := os.MkdirAll(dir, 0o755); err == nil && os.WriteFile(p, f.EvidencePNG, 0o644) == nil {
						fmt.Printf("    evidence: %s (registered at %.2f s | this file at %.2f s | difference)\n", p, f.EvidenceOriginalS, f.EvidenceS)
					}
				}
			}
		}
		return failed
	}
}

// ledgerCommand declares the flags the ledger subcommands share and runs
// do on the opened ledger, once check has accepted the arguments.
func ledgerCommand(fs *flag.FlagSet, check func(args []string) error, do func(ctx context.Context, l *openedLedger, args []string, asJSON bool) error) action {
	var lf ledgerFlags
	lf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string) error {
		if err := check(args); err != nil {
			return usageError{err}
		}
		l, err := lf.open(ctx, nil, cliLogger(), ledger.Options{})
		if err != nil {
			return err
		}
		defer l.Close()
		return do(ctx, l, args, *asJSON)
	}
}

// noArguments is the check of a command that takes no arguments.
func noArguments(fs *flag.FlagSet) func(args []string) error {
	return func(args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("%s takes no arguments, got %q", commandName(fs), args)
		}
		return nil
	}
}

func cmdLedgerReindex(fs *flag.FlagSet) action {
	return ledgerCommand(fs, noArguments(fs), func(ctx context.Context, l *openedLedger, _ []string, _ bool) error {
		if err := l.Reindex(ctx); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "index rebuilt from the chain's events")
		return nil
	})
}

func cmdLedgerRevoke(fs *flag.FlagSet) action {
	reason := fs.String("reason", "", "why the original is revoked (required)")
	check := func(args []string) error {
		if len(args) != 1 || *reason == "" {
			return errors.New("ledger revoke takes one SHA256 and --reason R")
		}
		_, err := ledger.ParseHash(args[0])
		return err
	}
	return ledgerCommand(fs, check, func(ctx context.Context, l *openedLedger, args []string, asJSON bool) error {
		sha, _ := ledger.ParseHash(args[0])
		rec, err := l.Revoke(ctx, sha, *reason)
		if err != nil {
			return err
		}
		printRecord(os.Stdout, args[0], rec, asJSON)
		return nil
	})
}

func cmdLedgerStatus(fs *flag.FlagSet) action {
	return ledgerCommand(fs, noArguments(fs), func(ctx context.Context, l *openedLedger, _ []string, asJSON bool) error {
		st, err := l.Status(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(os.Stdout).Encode(st)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "chain id\t%d\ncontract\t%s\naccount\t%s (registrar: %v)\nhead block\t%d\nindexed through block\t%d\n",
			st.ChainID, st.Contract, st.Account, st.Registrar, st.Block, st.IndexedTo)
		fmt.Fprintf(tw, "originals\t%d (%d revoked)\nbatches\t%d\nqueued for a batch\t%d\ndata\t%s\n", st.Originals, st.Revoked, st.Batches, st.Queued, st.DataDir)
		if st.MissingFiles > 0 {
			fmt.Fprintf(tw, "off-chain files not read yet\t%d (those originals match by exact hash only, or not at all)\n", st.MissingFiles)
		}
		if st.IndexError != "" {
			fmt.Fprintf(tw, "index error\t%s\n", st.IndexError)
		}
		return tw.Flush()
	})
}

// cmdLedgerAddRegistrar lets another account register: each API node of a
// cluster signs with its own key, and the contract's owner (the key of the
// node that deployed it) must allow each.
func cmdLedgerAddRegistrar(fs *flag.FlagSet) action {
	check := func(args []string) error {
		if len(args) != 1 || !common.IsHexAddress(args[0]) {
			return errors.New("ledger add-registrar takes one account address (0x…)")
		}
		return nil
	}
	return ledgerCommand(fs, check, func(ctx context.Context, l *openedLedger, args []string, asJSON bool) error {
		rec, err := l.Chain().AddRegistrar(ctx, common.HexToAddress(args[0]))
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"registrar": args[0], "tx": rec.TxHash.Hex(), "block": rec.BlockNumber})
		}
		fmt.Printf("%s may register now (transaction %s, block %d)\n", args[0], rec.TxHash.Hex(), rec.BlockNumber)
		return nil
	})
}
