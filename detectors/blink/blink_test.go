package blink

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/detectors"
)

func TestDetectorCountsHumanBlinks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	minute := time.Minute
	b30 := humanBlinks(rng, 1200*time.Millisecond, minute, 0)
	b25 := humanBlinks(rng, 700*time.Millisecond, minute, 5)
	b60 := humanBlinks(rng, 2*time.Second, minute, 9)
	// A NaN gap between two blinks, and a lost face hiding one blink.
	gaps25 := []Span{gapAfter(t, b25, 3, 0), gapAfter(t, b25, 10, 1)}
	long := humanBlinks(rng, time.Second, 2*minute, 3)

	cases := map[string]struct {
		s          series
		wantBlinks int
		minConf    float64
	}{
		"30 fps": {
			s:          series{fps: 30, dur: minute, noise: 0.04, blinks: b30, seed: 1},
			wantBlinks: len(b30), minConf: 0.85,
		},
		"25 fps with NaN gaps, lost face and dropouts": {
			s: series{fps: 25, dur: minute, noise: 0.04, blinks: b25, seed: 2,
				nanGaps: gaps25[:1], gaps: gaps25[1:], nanRate: 0.03},
			wantBlinks: visible(t, b25, 300*time.Millisecond, gaps25...), minConf: 0.75,
		},
		"one eye NaN for 25 s, eyes of different size": {
			s: series{fps: 30, dur: minute, right: 0.34, left: 0.24, noise: 0.04, blinks: b30, seed: 3,
				rightNaN: []Span{{15 * time.Second, 40 * time.Second}}},
			wantBlinks: len(b30), minConf: 0.85,
		},
		"sampled every other frame at 30 fps": {
			s:          series{fps: 30, dur: minute, noise: 0.04, blinks: b30, every: 2, seed: 4},
			wantBlinks: len(b30), minConf: 0.85,
		},
		"60 fps with one-frame glitches": {
			s: series{fps: 60, dur: minute, noise: 0.04, blinks: b60, seed: 5,
				glitches: []time.Duration{5 * time.Second, 17*time.Second + 300*time.Millisecond, 44 * time.Second}},
			wantBlinks: len(b60), minConf: 0.85,
		},
		"2 minutes, open level drifting by a third": {
			s: series{fps: 30, dur: 2 * minute, noise: 0.04, blinks: long, seed: 6,
				drift: func(t time.Duration) float64 { return 1 - 0.33*t.Seconds()/120 }},
			wantBlinks: len(long), minConf: 0.9,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.wantBlinks < 10 {
				t.Fatalf("test set-up: only %d blinks", tc.wantBlinks)
			}
			res := tc.s.run(t, nil)
			m := res.Measurements
			if got := int(m["blink_count"]); got != tc.wantBlinks {
				t.Errorf("blink_count = %d, want %d", got, tc.wantBlinks)
			}
			if m["closure_count"] != 0 {
				t.Errorf("closure_count = %v, want 0", m["closure_count"])
			}
			wantRate := float64(tc.wantBlinks) / m["observed_s"] * 60
			if got := m["blinks_per_minute"]; math.Abs(got-wantRate) > 0.01 {
				t.Errorf("blinks_per_minute = %.2f, want %.2f", got, wantRate)
			}
			if r := m["blinks_per_minute"]; r < 12 || r > 22 {
				t.Errorf("blinks_per_minute = %.1f, want the synthetic ≈17", r)
			}
			if cv := m["interval_cv"]; cv < 0.35 {
				t.Errorf("interval_cv = %.2f, want the irregular ≈0.5", cv)
			}
			if d := m["blink_duration_mean_s"]; d < 0.1 || d > 0.35 {
				t.Errorf("blink_duration_mean_s = %.3f, want within the synthetic 180–380 ms", d)
			}
			if res.Score > 0.3 {
				t.Errorf("score = %.2f, want ≤ 0.3 for human blinking (%s)", res.Score, res.Explanation)
			}
			if res.Confidence < tc.minConf {
				t.Errorf("confidence = %.2f, want ≥ %.2f", res.Confidence, tc.minConf)
			}
			if !strings.Contains(res.Explanation, "typical of a real person") {
				t.Errorf("explanation %q, want it to call the blinking typical", res.Explanation)
			}
			events := 0
			for _, e := range res.Evidence {
				if e.Kind == "event" {
					events++
					if !strings.HasPrefix(e.Note, "blink ") || e.End <= e.Start || e.Score != 0 {
						t.Errorf("event evidence %+v, want a plain blink", e)
					}
				}
			}
			if events != tc.wantBlinks {
				t.Errorf("%d event evidence entries, want %d", events, tc.wantBlinks)
			}
		})
	}
}

func TestDetectorScenarios(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	minute := time.Minute
	withClosure := humanBlinks(rng, time.Second, minute, 2)
	// Replace one blink in the middle by a 2 s closure.
	mid := len(withClosure) / 2
	withClosure[mid].closed = 2 * time.Second
	for i := mid + 1; i < len(withClosure); i++ {
		withClosure[i].on += 2 * time.Second
	}
	for len(withClosure) > 0 && withClosure[len(withClosure)-1].end() > minute-500*time.Millisecond {
		withClosure = withClosure[:len(withClosure)-1]
	}
	var rapid []blinkAt // about 90 a minute, irregular
	for on := 500 * time.Millisecond; on < 59*time.Second; on += time.Duration(450+rng.IntN(400)) * time.Millisecond {
		rapid = append(rapid, humanBlink(rng, on))
	}
	var reader []blinkAt // 5 a minute: someone reading
	for _, on := range []float64{3, 11, 25, 31, 44, 58, 72, 79, 93, 110} {
		reader = append(reader, humanBlink(rng, seconds(on)))
	}

	cases := map[string]struct {
		s                  series
		minScore, maxScore float64
		minConf, maxConf   float64
		blinks, closures   int    // -1: don't check
		evidence           string // an interval evidence note must contain this
	}{
		"no blinks for 60 s": {
			s:        series{fps: 30, dur: minute, noise: 0.04, seed: 10},
			minScore: 0.8, maxScore: 1, minConf: 0.85, maxConf: 1,
			blinks: 0, closures: 0, evidence: "no blink for 60 s",
		},
		"blinks every 3.00 s for 60 s": {
			s:        series{fps: 30, dur: minute, noise: 0.04, blinks: periodicBlinks(time.Second, 3*time.Second, minute), seed: 11},
			minScore: 0.75, maxScore: 1, minConf: 0.85, maxConf: 1,
			blinks: 20, closures: 0, evidence: "machine-regular",
		},
		"3 s clip": {
			s:        series{fps: 30, dur: 3 * time.Second, noise: 0.04, blinks: []blinkAt{humanBlink(rng, 1200*time.Millisecond)}, seed: 12},
			minScore: 0.4, maxScore: 0.6, minConf: 0.05, maxConf: 0.2,
			blinks: 1, closures: 0,
		},
		"2 s eye closure among human blinks": {
			s:        series{fps: 30, dur: minute, noise: 0.04, blinks: withClosure, seed: 13},
			minScore: 0, maxScore: 0.3, minConf: 0.85, maxConf: 1,
			blinks: len(withClosure) - 1, closures: 1,
		},
		"noise only, 5 s": {
			s:        series{fps: 30, dur: 5 * time.Second, noise: 0.08, seed: 14},
			minScore: 0.45, maxScore: 0.55, minConf: 0, maxConf: 0.25,
			blinks: 0, closures: 0,
		},
		"90 blinks a minute": {
			s:        series{fps: 30, dur: minute, noise: 0.04, blinks: rapid, seed: 15},
			minScore: 0.6, maxScore: 1, minConf: 0.85, maxConf: 1,
			blinks: len(rapid), closures: 0, evidence: "far above human norms",
		},
		"reader, 5 blinks a minute for 2 minutes": {
			s:        series{fps: 25, dur: 2 * minute, noise: 0.04, blinks: reader, seed: 16},
			minScore: 0.3, maxScore: 0.45, minConf: 0.9, maxConf: 1,
			blinks: len(reader), closures: 0,
		},
		"no data": {
			s:        series{fps: 30, dur: 10 * time.Second, noise: 0.04, nanRate: 1, seed: 17},
			minScore: 0.5, maxScore: 0.5, minConf: 0, maxConf: 0,
			blinks: 0, closures: 0,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := tc.s.run(t, nil)
			m := res.Measurements
			t.Logf("score %.2f confidence %.2f: %s", res.Score, res.Confidence, res.Explanation)
			if res.Detector != "blink" {
				t.Errorf("Detector = %q", res.Detector)
			}
			if res.Score < tc.minScore || res.Score > tc.maxScore {
				t.Errorf("score = %.3f, want in [%.2f, %.2f]", res.Score, tc.minScore, tc.maxScore)
			}
			if res.Confidence < tc.minConf || res.Confidence > tc.maxConf {
				t.Errorf("confidence = %.3f, want in [%.2f, %.2f]", res.Confidence, tc.minConf, tc.maxConf)
			}
			if tc.blinks >= 0 && int(m["blink_count"]) != tc.blinks {
				t.Errorf("blink_count = %v, want %d", m["blink_count"], tc.blinks)
			}
			if tc.closures >= 0 && int(m["closure_count"]) != tc.closures {
				t.Errorf("closure_count = %v, want %d", m["closure_count"], tc.closures)
			}
			if tc.evidence != "" {
				found := false
				for _, e := range res.Evidence {
					if e.Kind == "interval" && strings.Contains(e.Note, tc.evidence) {
						found = true
						if e.Score < 0.75 || e.End <= e.Start {
							t.Errorf("evidence %+v: want score ≥ 0.75 and a non-empty span", e)
						}
					}
				}
				if !found {
					t.Errorf("no interval evidence containing %q in %+v", tc.evidence, res.Evidence)
				}
				if !strings.Contains(res.Explanation, tc.evidence) {
					t.Errorf("explanation %q does not mention %q", res.Explanation, tc.evidence)
				}
			}
			if res.Explanation == "" || strings.ContainsAny(res.Explanation, "\n;") {
				t.Errorf("explanation %q, want one sentence", res.Explanation)
			}
			if _, err := json.Marshal(res); err != nil {
				t.Errorf("result does not marshal: %v", err)
			}
		})
	}
}

// TestClosureEvidence checks the closure is reported as one closure event
// with its length, not as a blink.
func TestClosureEvidence(t *testing.T) {
	s := series{fps: 30, dur: 20 * time.Second, noise: 0.03, seed: 20, blinks: []blinkAt{
		{on: 5 * time.Second, close: 100 * time.Millisecond, closed: 2 * time.Second, reopen: 200 * time.Millisecond, depth: 0.1},
	}}
	events := DetectBlinks(s.samples(), nil)
	if len(events) != 1 || !events[0].Closure || events[0].Truncated {
		t.Fatalf("events = %+v, want one complete closure", events)
	}
	if d := events[0].Duration(); d < 2*time.Second || d > 2300*time.Millisecond {
		t.Errorf("closure lasts %v, want ≈2.1–2.3 s", d)
	}
	res := s.run(t, nil)
	var notes []string
	for _, e := range res.Evidence {
		notes = append(notes, e.Note)
	}
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "eyes closed for 2.") {
		t.Errorf("evidence notes %q, want one \"eyes closed for 2.x s\"", notes)
	}
}

// TestTruncatedClosure: a track that ends with the eyes closed reports a
// truncated closure; one that ends mid-blink drops the blink.
func TestTruncatedClosure(t *testing.T) {
	cases := map[string]struct {
		b            blinkAt
		wantEvents   int
		wantTruncate bool
	}{
		"closed for the last 3 s": {
			b:          blinkAt{on: 7 * time.Second, close: 100 * time.Millisecond, closed: 10 * time.Second, reopen: 100 * time.Millisecond, depth: 0.1},
			wantEvents: 1, wantTruncate: true,
		},
		"blink cut by the end": {
			b:          blinkAt{on: 9900 * time.Millisecond, close: 80 * time.Millisecond, closed: 50 * time.Millisecond, reopen: 150 * time.Millisecond, depth: 0.1},
			wantEvents: 0,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := series{fps: 30, dur: 10 * time.Second, noise: 0.03, seed: 21, blinks: []blinkAt{tc.b}}
			events := DetectBlinks(s.samples(), nil)
			if len(events) != tc.wantEvents {
				t.Fatalf("events = %+v, want %d", events, tc.wantEvents)
			}
			if tc.wantEvents == 1 && (!events[0].Closure || events[0].Truncated != tc.wantTruncate) {
				t.Errorf("event %+v, want a closure with Truncated=%v", events[0], tc.wantTruncate)
			}
		})
	}
}

// TestDetectBlinksTiming checks event bounds against the analytic crossings
// of a noise-free blink.
func TestDetectBlinksTiming(t *testing.T) {
	b := blinkAt{on: 2*time.Second + 7*time.Millisecond, close: 80 * time.Millisecond, closed: 40 * time.Millisecond,
		reopen: 160 * time.Millisecond, depth: 0.1}
	// The open level is the baseline (no noise, eyes open > 90 % of the
	// time); the event spans where the level is below OpenRatio (0.8).
	// On the cosine flanks, 1−(1−depth)(1−cos πf)/2 = 0.8 at f = acos(1−2·0.2/(1−depth))/π.
	f := math.Acos(1-2*0.2/(1-b.depth)) / math.Pi
	wantStart := b.on + time.Duration(f*float64(b.close))
	wantEnd := b.on + b.close + b.closed + time.Duration((1-f)*float64(b.reopen))
	for _, fps := range []float64{25, 30, 60} {
		s := series{fps: fps, dur: 5 * time.Second, blinks: []blinkAt{b}}
		events := DetectBlinks(s.samples(), nil)
		if len(events) != 1 || events[0].Closure {
			t.Fatalf("%v fps: events = %+v, want one blink", fps, events)
		}
		e := events[0]
		// Linear interpolation on a curve sampled every frame: allow a third
		// of a frame, plus the median filter's shift at 60 fps.
		tol := time.Duration(float64(time.Second) / fps / 2)
		if d := e.Start - wantStart; d.Abs() > tol {
			t.Errorf("%v fps: Start = %v, want %v ± %v", fps, e.Start, wantStart, tol)
		}
		if d := e.End - wantEnd; d.Abs() > tol {
			t.Errorf("%v fps: End = %v, want %v ± %v", fps, e.End, wantEnd, tol)
		}
		if e.Min > b.depth+0.15 || e.Min < b.depth-0.01 {
			t.Errorf("%v fps: Min = %.2f, want ≈%.2f", fps, e.Min, b.depth)
		}
	}
}

// TestRollingBaseline: when the open level halves over a long track, a
// rolling baseline keeps finding blinks; a single baseline for the whole
// track loses them.
func TestRollingBaseline(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	blinks := humanBlinks(rng, time.Second, 4*time.Minute, 0)
	s := series{fps: 30, dur: 4 * time.Minute, noise: 0.03, blinks: blinks, seed: 30,
		drift: func(t time.Duration) float64 {
			if t < 2*time.Minute {
				return 1
			}
			return 0.5
		}}
	samples := s.samples()
	// The baseline lags a step down by up to 0.9·window/2 = 4.5 s; blinks in
	// the lag are lost.
	lag := Span{2 * time.Minute, 2*time.Minute + 4500*time.Millisecond}
	want := 0
	for _, b := range blinks {
		if b.end() < lag.Start || b.on > lag.End {
			want++
		}
	}
	rolling := len(Analyze(samples, nil).Blinks())
	if rolling < want || rolling > len(blinks) {
		t.Errorf("rolling baseline: %d blinks, want %d (all %d, less those in the lag)", rolling, want, len(blinks))
	}
	global := len(Analyze(samples, &Options{BaselineWindow: time.Hour}).Blinks())
	if global > len(blinks)*3/4 {
		t.Errorf("single baseline: %d blinks of %d; the test no longer shows why the baseline rolls", global, len(blinks))
	}
}

func TestCombineEyes(t *testing.T) {
	nan := math.NaN()
	cases := map[string]struct {
		right, left []float64
		want        []float64
	}{
		"equal eyes": {
			right: []float64{0.3, 0.3, 0.1}, left: []float64{0.3, 0.3, 0.1},
			want: []float64{0.3, 0.3, 0.1},
		},
		"one eye missing is rescaled to the common level": {
			// Open levels 0.4 and 0.2 (90th percentiles), common level 0.3.
			right: []float64{0.4, 0.4, 0.4, nan, 0.2},
			left:  []float64{0.2, 0.2, nan, 0.2, 0.1},
			want:  []float64{0.3, 0.3, 0.3, 0.3, 0.15},
		},
		"neither eye": {
			right: []float64{0.3, nan}, left: []float64{0.3, nan},
			want: []float64{0.3, nan},
		},
		"out-of-range values are unknown": {
			right: []float64{0.3, 0.3, -1}, left: []float64{0.3, 5, math.Inf(1)},
			want: []float64{0.3, 0.3, nan},
		},
		"one eye never measured": {
			right: []float64{nan, nan}, left: []float64{0.25, 0.1},
			want: []float64{0.25, 0.1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := CombineEyes(tc.right, tc.left)
			if len(got) != len(tc.want) {
				t.Fatalf("len = %d, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if math.IsNaN(tc.want[i]) != math.IsNaN(got[i]) ||
					!math.IsNaN(got[i]) && math.Abs(got[i]-tc.want[i]) > 1e-9 {
					t.Errorf("[%d] = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestMedianFilter(t *testing.T) {
	cases := map[string]struct {
		in   []float64
		w    int
		want []float64
	}{
		"off":                {[]float64{1, 0, 1}, 1, []float64{1, 0, 1}},
		"removes a spike":    {[]float64{1, 1, 0, 1, 1}, 3, []float64{1, 1, 1, 1, 1}},
		"keeps a 2-wide dip": {[]float64{1, 1, 0, 0, 1, 1}, 3, []float64{1, 1, 0, 0, 1, 1}},
		"ends shrink":        {[]float64{0, 1, 1}, 3, []float64{0.5, 1, 1}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := medianFilter(tc.in, tc.w)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestAutoMedianWindow(t *testing.T) {
	cases := map[float64]int{25: 1, 30: 1, 15: 1, 50: 3, 60: 3, 120: 5}
	for fps, want := range cases {
		dt := time.Duration(float64(time.Second) / fps)
		if got := autoMedianWindow(dt); got != want {
			t.Errorf("%v fps: window %d, want %d", fps, got, want)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	cases := map[string]struct {
		in                  *Options
		wantClose, wantOpen float64
		wantMaxBlink        time.Duration
	}{
		"nil":                  {nil, 0.6, 0.8, time.Second},
		"zero":                 {&Options{}, 0.6, 0.8, time.Second},
		"custom":               {&Options{CloseRatio: 0.5, OpenRatio: 0.7, MaxBlinkDuration: 800 * time.Millisecond}, 0.5, 0.7, 800 * time.Millisecond},
		"open not above close": {&Options{CloseRatio: 0.7, OpenRatio: 0.6}, 0.7, 0.85, time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := tc.in.withDefaults()
			if o.CloseRatio != tc.wantClose || math.Abs(o.OpenRatio-tc.wantOpen) > 1e-12 || o.MaxBlinkDuration != tc.wantMaxBlink {
				t.Errorf("got close %v open %v max %v", o.CloseRatio, o.OpenRatio, o.MaxBlinkDuration)
			}
		})
	}
}

func TestObserveRejectsOutOfOrder(t *testing.T) {
	ctx := context.Background()
	td := New(nil).NewTrack(3)
	if err := td.Observe(ctx, &detectors.FaceFrame{Frame: 5, Time: time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []detectors.FaceFrame{{Frame: 5, Time: time.Second}, {Frame: 4, Time: 900 * time.Millisecond}} {
		if err := td.Observe(ctx, &f); err == nil {
			t.Errorf("frame %d at %v: no error", f.Frame, f.Time)
		}
	}
	if err := td.Observe(ctx, nil); err == nil {
		t.Error("nil frame: no error")
	}
}

func TestResultHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(nil).NewTrack(1).Result(ctx, detectors.TrackInfo{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestName(t *testing.T) {
	if got := New(nil).Name(); got != "blink" {
		t.Errorf("Name() = %q", got)
	}
}

// TestAnalyzeOddInput feeds degenerate series straight to the pure functions:
// they must not panic and must produce finite numbers.
func TestAnalyzeOddInput(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	cases := map[string]struct {
		in        []Sample
		wantValid int
	}{
		"empty":         {nil, 0},
		"one sample":    {[]Sample{{0, 0.3}}, 1},
		"all NaN":       {[]Sample{{0, nan}, {ms(33), nan}}, 0},
		"same time":     {[]Sample{{ms(5), 0.3}, {ms(5), 0.1}, {ms(5), 0.3}}, 1},
		"out of order":  {[]Sample{{ms(100), 0.3}, {ms(50), 0.3}, {ms(133), 0.3}}, 2},
		"infinities":    {[]Sample{{0, inf}, {ms(33), -inf}, {ms(66), 0.3}}, 1},
		"always closed": {constant(300, 0.03), 300},
		"all zero":      {constant(300, 0), 300},
		"two far apart": {[]Sample{{0, 0.3}, {time.Hour, 0.3}}, 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := Analyze(tc.in, nil)
			if a.Valid != tc.wantValid {
				t.Errorf("Valid = %d, want %d", a.Valid, tc.wantValid)
			}
			s := Measure(a)
			v := Assess(s)
			for what, x := range map[string]float64{
				"score": v.Score, "confidence": v.Confidence, "rate": s.BlinksPerMinute,
				"cv": s.IntervalCV, "usable": s.UsableFraction, "baseline": s.Baseline,
			} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Errorf("%s = %v", what, x)
				}
			}
			if v.Score < 0 || v.Score > 1 || v.Confidence < 0 || v.Confidence > 1 {
				t.Errorf("score %v confidence %v out of [0,1]", v.Score, v.Confidence)
			}
		})
	}
}

// TestAlwaysClosed: eyes closed for the whole track read as one truncated
// closure, not as an open baseline at the closed level.
func TestAlwaysClosed(t *testing.T) {
	events := DetectBlinks(constant(300, 0.03), nil)
	if len(events) != 1 || !events[0].Closure || !events[0].Truncated {
		t.Errorf("events = %+v, want one truncated closure", events)
	}
}

// constant returns n samples at 30 fps with openness v.
func constant(n int, v float64) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{T: time.Duration(i) * time.Second / 30, Openness: v}
	}
	return out
}

func BenchmarkAnalyzeTenMinutes60FPS(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	s := series{fps: 60, dur: 10 * time.Minute, noise: 0.04, blinks: humanBlinks(rng, time.Second, 10*time.Minute, 0), seed: 9}
	samples := s.samples()
	b.ResetTimer()
	for b.Loop() {
		Analyze(samples, nil)
	}
}
