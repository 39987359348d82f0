package eval

import (
	"math"
	"sort"
	"strings"
)

// Kinds of manipulation, for the per-kind figures.
const (
	KindFaceSwap    = "face_swap"
	KindTalkingHead = "talking_head"
	KindLipSync     = "lip_sync"
	KindOther       = "other"
)

// methodKinds says what each known method does to a face. A method eval
// has not heard of is KindOther; its per-method figures are still given.
var methodKinds = map[string]string{
	"roop-inswapper":           KindFaceSwap,
	"phantom-inswapper":        KindFaceSwap,
	"dfdc":                     KindFaceSwap,
	"ffpp-deepfakes":           KindFaceSwap,
	"ffpp-faceswap":            KindFaceSwap,
	"deeperforensics-dfvae":    KindFaceSwap,
	"motioncoseg-partswap":     KindFaceSwap,
	"autoencoder_swap":         KindFaceSwap,
	"self_blend":               KindFaceSwap,
	"lfw_faceswap":             KindFaceSwap,
	"aniportrait":              KindTalkingHead,
	"edtalk":                   KindTalkingHead,
	"musev":                    KindTalkingHead,
	"fomm":                     KindTalkingHead,
	"styletalk":                KindTalkingHead,
	"sadtalker":                KindTalkingHead,
	"wav2lip":                  KindLipSync,
	"hyperlips":                KindLipSync,
	"videoretalking":           KindLipSync,
	"sadtalker-video-lip-sync": KindLipSync,
	"sadtalker-lipsync":        KindLipSync,
	"mouth_swap":               KindLipSync,
	"mouth_retime":             KindLipSync, // generator/dataset's lip-sync stand-in
}

// KindOf returns the kind of a fake-making method.
func KindOf(method string) string {
	if k, ok := methodKinds[strings.ToLower(method)]; ok {
		return k
	}
	return KindOther
}

// Scored is one clip with what the analysis said of it.
type Scored struct {
	Clip
	Score   float64 `json:"score"` // fused, 0 authentic … 1 manipulated
	Verdict string  `json:"verdict"`
	// Detectors are each detector's video-level score: its score on the
	// most suspicious face seen long enough to judge.
	Detectors map[string]float64 `json:"detectors,omitempty"`
	Seconds   float64            `json:"seconds"` // analysis time
	Err       string             `json:"error,omitempty"`
}

// Thresholds are the verdict boundaries the confusion figures are given at.
type Thresholds struct {
	Suspicious        float64 `json:"suspicious"`         // score at or above: not likely_authentic
	LikelyManipulated float64 `json:"likely_manipulated"` // score at or above: likely_manipulated
}

// Summary is eval's result.
type Summary struct {
	Clips         int        `json:"clips"`
	Reals         int        `json:"reals"`
	Fakes         int        `json:"fakes"`
	Failed        int        `json:"failed"`
	AUC           Figure     `json:"auc"`
	AUCInterval   Interval   `json:"auc_ci95"` // see AUCInterval
	EER           Figure     `json:"eer"`
	Thresholds    Thresholds `json:"thresholds"`
	AtSuspicious  Confusion  `json:"at_suspicious"`
	AtManipulated Confusion  `json:"at_likely_manipulated"`
	// Methods has one row per fake method (its fakes against every real
	// clip) and per real source (its false-positive rates).
	Methods []MethodFigures `json:"methods"`
	// Kinds pools the methods of each kind (face_swap, talking_head,
	// lip_sync); MethodMeanAUC weighs each method once, as uneven methods
	// (three near-duplicates of one swap) call for.
	Kinds []KindFigures `json:"kinds"`
	// WorstMethodAUC is the lowest per-method AUC: a detector is as good as
	// its worst method.
	WorstMethod    string                `json:"worst_method"`
	WorstMethodAUC Figure                `json:"worst_method_auc"`
	Detectors      []DetectorFigures     `json:"detectors"`
	PerClip        []Scored              `json:"per_clip"`
	ROC            map[string][]ROCPoint `json:"roc,omitempty"` // "fused" and each detector
	TotalSeconds   float64               `json:"total_seconds"`
}

// MethodFigures are one method's figures.
type MethodFigures struct {
	Method string `json:"method"`
	Label  string `json:"label"`
	Kind   string `json:"kind,omitempty"`
	N      int    `json:"n"`
	AUC    Figure `json:"auc"` // fakes of this method against all reals; NaN for reals
	// AUCInterval is AUC's 95% bootstrap interval: with a few fakes of a
	// method it is wide, and says so.
	AUCInterval Interval `json:"auc_ci95"`
	Mean        float64  `json:"mean_score"`
	// Called is the share called suspicious or worse, and Manipulated the
	// share called likely_manipulated (for reals: false positives).
	Called      float64           `json:"called"`
	Manipulated float64           `json:"manipulated"`
	Detectors   map[string]Figure `json:"detector_auc,omitempty"`
}

// KindFigures pool the methods of one kind.
type KindFigures struct {
	Kind          string   `json:"kind"`
	Methods       int      `json:"methods"`
	N             int      `json:"n"`
	AUC           Figure   `json:"auc"`
	AUCInterval   Interval `json:"auc_ci95"`
	MethodMeanAUC Figure   `json:"method_mean_auc"`
}

// DetectorFigures are one detector's video-level figures.
type DetectorFigures struct {
	Detector string `json:"detector"`
	AUC      Figure `json:"auc"`
	EER      Figure `json:"eer"`
	// Missing counts clips on which the detector gave no score.
	Missing int `json:"missing"`
}

// Summarize computes the figures of scored clips. Failed clips (Err set)
// are counted and listed but take no part in the figures.
func Summarize(scored []Scored, th Thresholds) Summary {
	s := Summary{Clips: len(scored), Thresholds: th, PerClip: scored, ROC: map[string][]ROCPoint{}}
	var pos, neg []float64
	byMethod := map[string][]Scored{}
	detNames := map[string]bool{}
	var ok []Scored
	for _, c := range scored {
		s.TotalSeconds += c.Seconds
		if c.Err != "" {
			s.Failed++
			continue
		}
		ok = append(ok, c)
		byMethod[c.Method] = append(byMethod[c.Method], c)
		for d := range c.Detectors {
			detNames[d] = true
		}
		if c.IsFake() {
			pos = append(pos, c.Score)
		} else {
			neg = append(neg, c.Score)
		}
	}
	s.Reals, s.Fakes = len(neg), len(pos)
	s.AUC, s.EER = Figure(AUC(pos, neg)), Figure(EER(pos, neg))
	s.AUCInterval = AUCInterval(pos, neg)
	s.AtSuspicious, s.AtManipulated = At(pos, neg, th.Suspicious), At(pos, neg, th.LikelyManipulated)
	s.ROC["fused"] = ROC(pos, neg)

	dets := sortedKeys(detNames)
	detScores := func(cs []Scored, d string) ([]float64, int) {
		var v []float64
		missing := 0
		for _, c := range cs {
			x, ok := c.Detectors[d]
			if !ok {
				missing++
				x = 0.5
			}
			v = append(v, x)
		}
		return v, missing
	}
	var realsOK, fakesOK []Scored
	for _, c := range ok {
		if c.IsFake() {
			fakesOK = append(fakesOK, c)
		} else {
			realsOK = append(realsOK, c)
		}
	}
	for _, d := range dets {
		dp, mp := detScores(fakesOK, d)
		dn, mn := detScores(realsOK, d)
		s.Detectors = append(s.Detectors, DetectorFigures{Detector: d, AUC: Figure(AUC(dp, dn)), EER: Figure(EER(dp, dn)), Missing: mp + mn})
		s.ROC[d] = ROC(dp, dn)
	}

	s.WorstMethodAUC = Figure(math.NaN())
	kinds := map[string]*KindFigures{}
	kindPos := map[string][]float64{}
	for _, m := range sortedKeys(byMethod) {
		cs := byMethod[m]
		f := MethodFigures{Method: m, Label: cs[0].Label, N: len(cs), AUC: Figure(math.NaN()),
			AUCInterval: AUCInterval(nil, nil)}
		var sc []float64
		for _, c := range cs {
			sc = append(sc, c.Score)
			f.Mean += c.Score / float64(len(cs))
		}
		cf := At(sc, nil, th.Suspicious)
		mf := At(sc, nil, th.LikelyManipulated)
		if f.Label == Fake {
			f.Kind = KindOf(m)
			f.AUC = Figure(AUC(sc, neg))
			f.AUCInterval = AUCInterval(sc, neg)
			f.Called, f.Manipulated = cf.Recall, mf.Recall
			f.Detectors = map[string]Figure{}
			for _, d := range dets {
				dp, _ := detScores(cs, d)
				dn, _ := detScores(realsOK, d)
				f.Detectors[d] = Figure(AUC(dp, dn))
			}
			if !math.IsNaN(float64(f.AUC)) && (math.IsNaN(float64(s.WorstMethodAUC)) || f.AUC < s.WorstMethodAUC) {
				s.WorstMethod, s.WorstMethodAUC = m, f.AUC
			}
			k := kinds[f.Kind]
			if k == nil {
				k = &KindFigures{Kind: f.Kind}
				kinds[f.Kind] = k
			}
			k.Methods++
			k.N += len(cs)
			k.MethodMeanAUC += f.AUC
			kindPos[f.Kind] = append(kindPos[f.Kind], sc...)
		} else {
			// For reals the "called" shares are false-positive rates.
			n := float64(len(cs))
			f.Called, f.Manipulated = float64(len(cs)-countBelow(sc, th.Suspicious))/n, float64(len(cs)-countBelow(sc, th.LikelyManipulated))/n
		}
		s.Methods = append(s.Methods, f)
	}
	for _, k := range sortedKeys(kinds) {
		kf := kinds[k]
		kf.MethodMeanAUC /= Figure(kf.Methods)
		kf.AUC = Figure(AUC(kindPos[k], neg))
		kf.AUCInterval = AUCInterval(kindPos[k], neg)
		s.Kinds = append(s.Kinds, *kf)
	}
	return s
}

func countBelow(v []float64, t float64) int {
	n := 0
	for _, x := range v {
		if noNaN(x) < t {
			n++
		}
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
