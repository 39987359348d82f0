package landmark

import "testing"

func BenchmarkFit(b *testing.B) {
	m, img, _, f := fittedPortrait(b)
	roi := f.NextROI()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Fit(img, roi); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEyes(b *testing.B) {
	m, img, _, f := fittedPortrait(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Eyes(img, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAlign(b *testing.B) {
	_, img, _, f := fittedPortrait(b)
	b.ResetTimer()
	for b.Loop() {
		crop, _, err := Align(img, f, 256)
		if err != nil {
			b.Fatal(err)
		}
		crop.Close()
	}
}
