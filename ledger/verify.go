package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	// Alert is set when the file shows a registered original in which
	// faces differ: the one line a report should lead with, whatever else
	// it says ("FACES DIFFER FROM A REGISTERED ORIGINAL: face #1, ...").
	Alert string `json:"alert,omitempty"`
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
	// FacesCompared is true when the faces were compared too: false for
	// an original registered with a version 1 fingerprint (frame and grid
	// hashes only).
	FacesCompared bool `json:"faces_compared"`
	// FaceSamples counts the face comparisons made (a face in a sample);
	// FaceSamplesTooSmall those skipped because a face was narrower than
	// fingerprint.MinCompareFace pixels in the file or the original.
	FaceSamples         int `json:"face_samples"`
	FaceSamplesTooSmall int `json:"face_samples_too_small,omitempty"`
	// Faces are the spans in which a face of the file differs from the
	// registered face at the same place and time.
	Faces []FaceDiff `json:"faces,omitempty"`
	// Geometry is where the file's frame lies in the original's (in
	// fractions of its width and height) when it was cropped or scaled
	// differently; the comparison was made in the original's layout.
	Geometry *Geometry `json:"geometry,omitempty"`
}

// Geometry is the rectangle of the original frame a copy shows, in
// fractions of the original's width and height.
type Geometry struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// FaceDiff is a span in which a face of the file differs from the
// registered face at the same place and time.
type FaceDiff struct {
	Track         int `json:"track"`          // the face's track number in the file
	OriginalTrack int `json:"original_track"` // the registered face's track number
	TimeRange
	// Regions are what differs: "identity" (the whole face), "eyes",
	// "nose", "mouth", "cheeks", "skin colour".
	Regions     []string `json:"regions"`
	Description string   `json:"description"` // "face #1, 0.0–12.3 s: identity and mouth differ"
	// Score is how far the most changed region is, at the most different
	// sample, past what copies show: its distance over its threshold.
	Score float64 `json:"score"`
	// EvidenceS and EvidenceOriginalS are the times of the sample shown
	// in EvidencePNG, in the file and in the original.
	EvidenceS         float64 `json:"evidence_s"`
	EvidenceOriginalS float64 `json:"evidence_original_s"`
	// EvidencePNG shows, side by side, the registered face, the file's
	// face and their difference at that sample (grey, aligned, the
	// differing regions outlined); absent when the registration kept no
	// thumbnail near it.
	EvidencePNG []byte `json:"evidence_png,omitempty"`
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
	fp, err := r.checkFingerprint(ctx, path, fingerprint.Geometry{})
	if err != nil {
		return v, fmt.Errorf("fingerprinting: %w", err)
	}
	keys := fp.Keys()
	if reg := fp.AtRate(fingerprint.DefaultSampleRate); reg != nil {
		keys = reg.Keys() // the index holds the keys of registrations, at their rate
	}
	// A copy shares most keys; demanding a tenth of them keeps unrelated
	// footage from costing a comparison each.
	cands, err := r.index.Candidates(ctx, keys, max(1, len(keys)/10), maxCandidates)
	if err != nil {
		return v, err
	}
	var best *fingerprint.Match
	var bestOrig index.Original
	var bestFP *fingerprint.Fingerprint
	for _, c := range cands {
		orig, err := r.loadFingerprint(ctx, c.Fingerprint)
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
			best, bestOrig, bestFP = &m, c.Original, orig
		}
	}
	var geometry *Geometry
	// A crop moves every cell, so a cropped copy may match few samples:
	// its faces say where it lies in the original.
	if best != nil {
		// A copy cropped or scaled differently: fingerprint it again laid
		// out like the original, so its frame and grid hashes line up.
		if g, ok := fingerprint.EstimateGeometry(bestFP, fp, *best); ok {
			if _, can := r.fp.(CheckFingerprinter); can {
				fp2, err := r.checkFingerprint(ctx, path, g)
				if err != nil {
					return v, fmt.Errorf("fingerprinting: %w", err)
				}
				if m2, err := fingerprint.Compare(bestFP, fp2, &fingerprint.CompareOptions{Geometry: g}); err == nil && m2.MatchedFraction >= best.MatchedFraction {
					best, geometry = &m2, &Geometry{X: g.X, Y: g.Y, W: g.W, H: g.H}
					fp = fp2
				}
			}
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
	v.Match.Geometry = geometry
	v.Match.Faces = faceDiffs(*best)
	share := fmt.Sprintf("%.0f%% of samples match", 100*best.MatchedFraction)
	switch {
	case rec.Revoked:
		v.Status, v.Explanation = Revoked, fmt.Sprintf("this footage matches a registered original that was revoked: %s", rec.RevokeReason)
	case len(v.Match.Faces) > 0:
		v.Status = AlteredOriginal
		var what []string
		for _, f := range v.Match.Faces {
			what = append(what, f.Description)
		}
		v.Explanation = fmt.Sprintf("footage of a registered original (%s) in which faces differ from the registered ones: %s", share, strings.Join(what, "; "))
		v.Alert = "FACES DIFFER FROM A REGISTERED ORIGINAL: " + strings.Join(what, "; ")
		if n := len(v.Match.Unmatched) + len(v.Match.Altered); n > 0 {
			v.Explanation += fmt.Sprintf("; also %d changed span(s) of the picture", n)
		}
	case fingerprint.Classify(*best) == fingerprint.SameContent:
		v.Status, v.Explanation = MatchesOriginal, fmt.Sprintf("the same footage as a registered original (%s), in a different encoding", share)
		switch m := v.Match; {
		case !m.FacesCompared:
			v.Explanation += "; the original was registered without faces (a version 1 fingerprint), so faces were not compared"
		case m.FaceSamples > 0:
			v.Explanation += fmt.Sprintf(", with the same faces (%d face samples compared)", m.FaceSamples)
			if !best.DetailCompared {
				v.Explanation += "; the original was registered before version 3 fingerprints, so the lips were compared only coarsely (a lip-sync may pass)"
			}
		case m.FaceSamplesTooSmall > 0:
			v.Explanation += fmt.Sprintf("; its faces are too small to compare (under %d px wide)", fingerprint.MinCompareFace)
		default:
			v.Explanation += "; no face to compare"
		}
	default:
		v.Status = AlteredOriginal
		v.Explanation = fmt.Sprintf("footage of a registered original (%s) with %d changed span(s) and %d span(s) with a region changed",
			share, len(v.Match.Unmatched), len(v.Match.Altered))
	}
	return v, nil
}

// checkFingerprint fingerprints a file to verify: as CheckFingerprinter
// does when the Fingerprinter has it, else as a registration.
func (r *Registry) checkFingerprint(ctx context.Context, path string, g fingerprint.Geometry) (*fingerprint.Fingerprint, error) {
	if c, ok := r.fp.(CheckFingerprinter); ok {
		return c.FingerprintToCheck(ctx, path, g)
	}
	return r.fp.Fingerprint(ctx, path)
}

// faceDiffs lists the altered face spans of a match, earliest first.
func faceDiffs(m fingerprint.Match) []FaceDiff {
	var out []FaceDiff
	for _, f := range m.Faces {
		for _, a := range f.Altered {
			d := FaceDiff{Track: f.Track, OriginalTrack: f.OriginalTrack, TimeRange: timeRange(a.Span),
				Regions: regionNames(a.Differs), Score: a.Worst.Score,
				EvidenceS: seconds(m.Frames[a.Worst.K].T), EvidenceOriginalS: seconds(m.Frames[a.Worst.K].T + m.Offset)}
			d.Description = fmt.Sprintf("face #%d, %.1f–%.1f s: %s differ", f.Track, d.StartS, d.EndS, fingerprint.DescribeDiffers(a.Differs))
			if len(d.Regions) == 1 && d.Regions[0] != "cheeks" {
				d.Description = strings.TrimSuffix(d.Description, " differ") + " differs"
			}
			if a.Registered != nil && a.Checked != nil && a.Registered.Thumb != nil && a.Checked.Thumb != nil {
				if png, err := faceEvidence(a.Registered.Thumb, a.Checked.Thumb, a.Differs); err == nil {
					d.EvidencePNG = png
				}
			}
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartS < out[j].StartS })
	return out
}

// regionNames lists the names of a Differs mask, both cheeks as one.
func regionNames(differs uint8) []string {
	var names []string
	for r := range fingerprint.NumRegions {
		if n := fingerprint.RegionName(r); differs&(1<<r) != 0 && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if differs&fingerprint.ColourBit != 0 {
		names = append(names, "skin colour")
	}
	return names
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
		Samples: m.Samples, Verdict: string(fingerprint.Classify(m)), FacesCompared: m.FacesCompared}
	for _, f := range m.Faces {
		s.FaceSamples += len(f.Samples)
		s.FaceSamplesTooSmall += f.TooSmall
	}
	for _, u := range m.Unmatched {
		if !u.Padding {
			s.Unmatched = append(s.Unmatched, timeRange(u))
		}
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
