package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/ledger/fingerprint"
	"github.com/trueframe/trueframe/ledger/index"
)

// Status of a verification.
type VerifyStatus string

const (
	// Registered: the file itself (same SHA-256) is a registered original.
	Registered VerifyStatus = "registered"
	// MatchesOriginal: the same footage as a registered original, in a
	// different encoding, size or length.
	MatchesOriginal VerifyStatus = "matches_original"
	// AlteredOriginal: footage of a registered original in most of its
	// length, but some seconds or a region of the picture differ: strong
	// evidence that known footage was manipulated.
	AlteredOriginal VerifyStatus = "altered_original"
	// Revoked: the file is, or matches, an original whose registration was revoked.
	Revoked VerifyStatus = "revoked"
	// Unknown: no registered original matches.
	Unknown VerifyStatus = "unknown"
)

// Verification is the answer of Verify.
type Verification struct {
	Status      VerifyStatus `json:"status"`
	Explanation string       `json:"explanation"`
	SHA256      string       `json:"sha256"`
	// Original is the registered original the file is or matches, with its
	// chain facts; nil when unknown.
	Original *Record `json:"original,omitempty"`
	// Match details the perceptual comparison (nil for exact copies).
	Match *MatchSummary `json:"match,omitempty"`
	// Candidates is how many registered originals were compared.
	Candidates int `json:"candidates"`
}

// MatchSummary is the perceptual comparison of the file with an original.
type MatchSummary struct {
	MatchedFraction float64     `json:"matched_fraction"` // of the file's samples that show the original
	MeanDistance    float64     `json:"mean_distance"`    // mean Hamming distance of the aligned global hashes (of 64 bits)
	OffsetS         float64     `json:"offset_s"`         // file time t shows original time t+offset
	Samples         int         `json:"samples"`
	Unmatched       []TimeRange `json:"unmatched,omitempty"` // seconds of the file that do not show the original
	Altered         []Altered   `json:"altered,omitempty"`   // seconds that show it with a region changed
	Verdict         string      `json:"verdict"`             // same_content, altered or different
}

// TimeRange is a span of the file, with the original's span it lines up with.
type TimeRange struct {
	StartS         float64  `json:"start_s"`
	EndS           float64  `json:"end_s"`
	OriginalStartS *float64 `json:"original_start_s,omitempty"`
	OriginalEndS   *float64 `json:"original_end_s,omitempty"`
}

// Altered is a span whose picture matches the original except in some
// cells of the fingerprint grid.
type Altered struct {
	TimeRange
	Grid            int   `json:"grid"`  // cells per side
	Cells           []int `json:"cells"` // row-major cell indices that differ
	MaxCellDistance int   `json:"max_cell_distance"`
}

// maxCandidates bounds the perceptual comparisons of one verification.
const maxCandidates = 16

// Verify checks a file against the registry.
func (r *Registry) Verify(ctx context.Context, path string) (Verification, error) {
	sha, _, err := HashFile(ctx, path)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{SHA256: hexString(sha)}
	if err := r.Sync(ctx); err != nil {
		return v, err
	}

	// The exact file.
	if o, err := r.index.Original(ctx, sha); err == nil {
		rec, err := r.checkedRecord(ctx, o)
		if err != nil {
			return v, err
		}
		v.Original = &rec
		if rec.Revoked {
			v.Status, v.Explanation = Revoked, fmt.Sprintf("this exact file was registered, then revoked: %s", rec.RevokeReason)
		} else {
			v.Status, v.Explanation = Registered, "this exact file (same SHA-256) is a registered original"
		}
		return v, nil
	} else if !errors.Is(err, index.ErrNotFound) {
		return v, err
	}

	// The same footage, otherwise.
	fp, err := r.fp.Fingerprint(ctx, path)
	if err != nil {
		return v, fmt.Errorf("fingerprinting: %w", err)
	}
	keys := fp.Keys()
	// A copy shares most keys; demanding a tenth of them keeps unrelated
	// footage from costing a comparison each.
	cands, err := r.index.Candidates(ctx, keys, max(1, len(keys)/10), maxCandidates)
	if err != nil {
		return v, err
	}
	var best *fingerprint.Match
	var bestOrig index.Original
	for _, c := range cands {
		orig, err := r.loadFingerprint(c.Fingerprint)
		if err != nil {
			r.log.Warn("candidate fingerprint unusable", "sha256", hexString(c.SHA256), "err", err)
			continue
		}
		m, err := fingerprint.Compare(orig, fp, nil)
		if errors.Is(err, fingerprint.ErrIncompatible) {
			continue
		}
		if err != nil {
			return v, err
		}
		v.Candidates++
		if best == nil || m.MatchedFraction > best.MatchedFraction ||
			(m.MatchedFraction == best.MatchedFraction && m.MeanDistance < best.MeanDistance) {
			best, bestOrig = &m, c.Original
		}
	}
	if best == nil || fingerprint.Classify(*best) == fingerprint.Different {
		v.Status, v.Explanation = Unknown, "no registered original matches this file"
		if best != nil {
			v.Match = summarize(*best)
		}
		return v, nil
	}
	rec, err := r.checkedRecord(ctx, bestOrig)
	if err != nil {
		return v, err
	}
	v.Original, v.Match = &rec, summarize(*best)
	switch {
	case rec.Revoked:
		v.Status, v.Explanation = Revoked, fmt.Sprintf("this footage matches a registered original that was revoked: %s", rec.RevokeReason)
	case fingerprint.Classify(*best) == fingerprint.SameContent:
		v.Status, v.Explanation = MatchesOriginal, fmt.Sprintf("the same footage as a registered original (%.0f%% of samples match), in a different encoding", 100*best.MatchedFraction)
	default:
		v.Status = AlteredOriginal
		v.Explanation = fmt.Sprintf("footage of a registered original (%.0f%% of samples match) with %d changed span(s) and %d span(s) with a region changed",
			100*best.MatchedFraction, len(v.Match.Unmatched), len(v.Match.Altered))
	}
	return v, nil
}

// checkedRecord returns the record of o after checking it against the
// chain itself (not only the index): the registration or the batch root
// is on chain with the same fingerprint digest, and whether it is revoked
// is read from the contract.
func (r *Registry) checkedRecord(ctx context.Context, o index.Original) (Record, error) {
	rec := r.record(o)
	if o.Batched() {
		p, err := r.proof(ctx, o)
		if err != nil {
			return rec, err
		}
		if !p.Verified {
			return rec, fmt.Errorf("%w: inclusion proof of %x does not verify", ErrCorrupt, o.SHA256)
		}
		rec.Batch = p
	} else {
		on, err := r.chain.Original(ctx, o.SHA256)
		if errors.Is(err, chain.ErrUnknownOriginal) || (err == nil && on.FingerprintDigest != o.Fingerprint) {
			return rec, fmt.Errorf("%w: the index disagrees with the chain about %x: reindex", ErrCorrupt, o.SHA256)
		}
		if err != nil {
			return rec, err
		}
	}
	revoked, err := r.chain.IsRevoked(ctx, o.SHA256)
	if err != nil {
		return rec, err
	}
	switch {
	case revoked && !rec.Revoked:
		rec.RevokeReason = "(revoked on chain after the index was last synced)"
	case !revoked:
		rec.RevokeReason, rec.RevokeTx = "", ""
	}
	rec.Revoked = revoked
	return rec, nil
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func summarize(m fingerprint.Match) *MatchSummary {
	s := &MatchSummary{MatchedFraction: m.MatchedFraction, MeanDistance: m.MeanDistance, OffsetS: seconds(m.Offset),
		Samples: m.Samples, Verdict: string(fingerprint.Classify(m))}
	for _, u := range m.Unmatched {
		s.Unmatched = append(s.Unmatched, timeRange(u))
	}
	for _, a := range m.Altered {
		s.Altered = append(s.Altered, Altered{TimeRange: timeRange(a.Span), Grid: m.Grid, Cells: a.Cells, MaxCellDistance: a.MaxCellDistance})
	}
	return s
}

func timeRange(s fingerprint.Span) TimeRange {
	tr := TimeRange{StartS: seconds(s.Candidate.Start), EndS: seconds(s.Candidate.End)}
	if s.InOriginal {
		a, b := seconds(s.Original.Start), seconds(s.Original.End)
		tr.OriginalStartS, tr.OriginalEndS = &a, &b
	}
	return tr
}
