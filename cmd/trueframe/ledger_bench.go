package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/devchain"
	"github.com/trueframe/trueframe/ledger/fingerprint"
)

// cmdLedgerBench measures the ledger on a fresh embedded chain in a
// temporary directory: single and batched registrations per second, gas
// per registration and per batched hash, and fingerprinting speed.
func cmdLedgerBench(fs *flag.FlagSet) action {
	singles := fs.Int("n", 200, "single registrations to time")
	writers := fs.Int("writers", 16, "concurrent writers for the concurrent single registrations")
	batch := fs.Int("batch", 1000, "originals per batch")
	batches := fs.Int("batches", 3, "batches to time")
	clip := fs.String("clip", "", "video to fingerprint (720p is the reference)")
	deps := fs.String("deps", "", depsUsage)
	onlyFP := fs.Bool("fingerprint-only", false, "skip the chain and measure only the fingerprinting of --clip")
	return func(ctx context.Context, args []string) error {
		if *onlyFP {
			if *clip == "" {
				return usageError{errors.New("--fingerprint-only needs --clip")}
			}
			return benchFingerprint(ctx, *clip, *deps)
		}
		dir, err := os.MkdirTemp("", "trueframe-ledger-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dc, err := devchain.Open(ctx, filepath.Join(dir, "chain"), nil)
		if err != nil {
			return err
		}
		defer dc.Close()
		c := dc.Client()
		reg, err := ledger.Open(ctx, c, dir, ledger.Options{BatchSize: *batch})
		if err != nil {
			return err
		}
		defer reg.Close()

		random := func() (h [32]byte) {
			rand.Read(h[:])
			return h
		}
		meta := "https://archive.example/item/000000"
		fmt.Printf("ledger bench on the embedded chain (chain %d), every write mined and synced to disk before it counts\n", c.ChainID())

		// Single registrations, one writer: the latency-bound case.
		var gas uint64
		start := time.Now()
		for range *singles {
			r, err := c.Register(ctx, random(), random(), meta)
			if err != nil {
				return err
			}
			gas += r.GasUsed
		}
		el := time.Since(start)
		fmt.Printf("  single, 1 writer:     %7.1f registrations/s  (%d in %s), %d gas per registration (%d-byte meta)\n",
			float64(*singles)/el.Seconds(), *singles, el.Round(time.Millisecond), gas/uint64(*singles), len(meta))

		// Single registrations, concurrent writers: transactions share blocks.
		start = time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, *writers)
		for w := range *writers {
			wg.Go(func() {
				for i := w; i < *singles; i += *writers {
					if _, err := c.Register(ctx, random(), random(), meta); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		el = time.Since(start)
		fmt.Printf("  single, %d writers:   %7.1f registrations/s\n", *writers, float64(*singles)/el.Seconds())

		// Batched: queue (durably, one file each) and anchor as one Merkle root.
		var total time.Duration
		var batchGas uint64
		n := 0
		for range *batches {
			start = time.Now()
			for range *batch {
				if err := reg.EnqueueHashes(random(), random(), ""); err != nil {
					return err
				}
			}
			res, err := reg.Flush(ctx)
			if err != nil {
				return err
			}
			if res.Count != *batch {
				return fmt.Errorf("a batch anchored %d originals, want %d", res.Count, *batch)
			}
			total += time.Since(start)
			batchGas += res.GasUsed
			n += res.Count
		}
		fmt.Printf("  batched by %d:      %7.1f registrations/s  (queue + Merkle tree + anchor + index), %.1f gas per hash (%d per batch)\n",
			*batch, float64(n)/total.Seconds(), float64(batchGas)/float64(n), batchGas/uint64(*batches))

		if *clip == "" {
			return nil
		}
		return benchFingerprint(ctx, *clip, *deps)
	}
}

// benchFingerprint times the fingerprints of clip: version 1 (frame and
// grid hashes), versions 2 and 3 as registered (with faces; thumbnails
// thinned to one a second) and as a checked file is fingerprinted (version
// 3 at 3 times the rate, every thumbnail), and prints their speed and size
// per minute of video.
func benchFingerprint(ctx context.Context, clip, deps string) error {
	size, err := video720(ctx, clip)
	if err != nil {
		return err
	}
	d, err := depsDir(deps)
	if err != nil {
		return err
	}
	if err := ortutil.Init(filepath.Join(d, "lib", scan.ORTLibrary)); err != nil {
		return err
	}
	faces, err := fingerprint.LoadFaceModels(filepath.Join(d, "models"))
	if err != nil {
		return err
	}
	defer faces.Close()
	for _, run := range []struct {
		name string
		opts *fingerprint.Options
		thin bool
	}{
		{"fingerprint v1", nil, false},
		{"fingerprint v2", &fingerprint.Options{Faces: faces, Version: fingerprint.Version2}, true},
		{"fingerprint v3", &fingerprint.Options{Faces: faces}, true},
		{"check (v3, 3x)", ledger.CheckOptions(&fingerprint.Options{Faces: faces}, fingerprint.Geometry{}), false},
	} {
		start := time.Now()
		fp, err := fingerprint.Compute(ctx, clip, run.opts)
		if err != nil {
			return err
		}
		el := time.Since(start)
		if fp.Duration <= 0 {
			return errors.New("the clip has no duration")
		}
		if run.thin {
			fp.ThinThumbs(fingerprint.ThumbEvery)
		}
		perMinute := el.Seconds() * float64(time.Minute) / float64(fp.Duration)
		fmt.Printf("  %-20s %.1f s per minute of %s video (%.1fx real time; %d samples, %d bytes per minute)\n",
			run.name+":", perMinute, size, float64(fp.Duration)/float64(el), len(fp.Frames), sizePerMinute(fp))
	}
	return nil
}

func video720(ctx context.Context, path string) (string, error) {
	fp, err := fingerprint.Compute(ctx, path, &fingerprint.Options{SampleRate: 0.5}) // warms the page cache too
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%dx%d", fp.Width, fp.Height), nil
}

func sizePerMinute(fp *fingerprint.Fingerprint) int {
	b, err := fp.Encode()
	if err != nil {
		return 0
	}
	return int(float64(len(b)) * float64(time.Minute) / float64(fp.Duration))
}
