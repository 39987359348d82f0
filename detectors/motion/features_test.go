package motion

import (
	"math"
	"testing"
	"time"
)

func TestResampleSplitsAtGapsAndInterpolates(t *testing.T) {
	var frames []Frame
	add := func(ms int, v float64) {
		var f Frame
		f.T = time.Duration(ms) * time.Millisecond
		f.V[MouthOpen] = v
		frames = append(frames, f)
	}
	// 0–1 s at irregular times with MouthOpen = t in seconds, then a gap
	// of 1 s, then 0.5 s more.
	for _, ms := range []int{0, 70, 130, 220, 260, 390, 400, 530, 640, 700, 810, 900, 1000} {
		add(ms, float64(ms)/1000)
	}
	for _, ms := range []int{2000, 2100, 2200, 2300, 2400, 2500} {
		add(ms, float64(ms)/1000)
	}
	runs := Resample(frames)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2 (split at the gap)", len(runs))
	}
	if runs[0].Start != 0 || len(runs[0].Samples) != 11 || runs[1].Start != 2*time.Second || len(runs[1].Samples) != 6 {
		t.Fatalf("runs start %v, %v with %d, %d samples", runs[0].Start, runs[1].Start, len(runs[0].Samples), len(runs[1].Samples))
	}
	for _, r := range runs {
		for i, s := range r.Samples {
			want := r.Start.Seconds() + float64(i)/Rate
			if math.Abs(s[MouthOpen]-want) > 1e-9 {
				t.Fatalf("sample %d of run at %v: %v, want %v (linear interpolation)", i, r.Start, s[MouthOpen], want)
			}
		}
	}
	if Resample(nil) != nil {
		t.Fatal("no frames, no runs")
	}
}

func TestWindowInputCentresAndScales(t *testing.T) {
	w := make([][NumChannels]float64, WindowLen)
	for i := range w {
		w[i][MouthOpen] = 0.1 + 0.01*float64(i%2) // alternating
		w[i][Yaw] = 5                             // constant: no deviation, no change
	}
	var n Norm
	for k := range NumChannels {
		n.Value[k], n.Change[k] = 0.005, 0.01
	}
	dst := make([]float32, WindowLen*InputChannels)
	WindowInput(w, n, dst)
	if got := dst[0*InputChannels+MouthOpen]; math.Abs(float64(got)+1) > 1e-5 {
		t.Fatalf("first deviation %v, want -1 (−0.005 / 0.005)", got)
	}
	if got := dst[1*InputChannels+NumChannels+MouthOpen]; math.Abs(float64(got)-1) > 1e-5 {
		t.Fatalf("change %v, want 1 (0.01 / 0.01)", got)
	}
	if dst[0*InputChannels+NumChannels+MouthOpen] != 0 {
		t.Fatal("the first sample has no change")
	}
	for i := range WindowLen {
		if dst[i*InputChannels+Yaw] != 0 || dst[i*InputChannels+NumChannels+Yaw] != 0 {
			t.Fatal("a constant channel must read 0")
		}
	}
	if (Norm{}).Valid() || !n.Valid() {
		t.Fatal("Norm.Valid")
	}
}
