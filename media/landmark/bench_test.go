package landmark

import (
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

func BenchmarkFit(b *testing.B) {
	dir := testutil.SharedDir(b, "data", "images", "faces")
	m := newTestMesher(b)
	p := portraits[0]
	img := readImage(b, filepath.Join(dir, p.file))
	defer img.Close()
	roi := fitTwice(b, m, img, p.box).NextROI()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Fit(img, roi); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEyes(b *testing.B) {
	dir := testutil.SharedDir(b, "data", "images", "faces")
	m := newTestMesher(b)
	p := portraits[0]
	img := readImage(b, filepath.Join(dir, p.file))
	defer img.Close()
	f := fitTwice(b, m, img, p.box)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Eyes(img, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAlign(b *testing.B) {
	dir := testutil.SharedDir(b, "data", "images", "faces")
	m := newTestMesher(b)
	p := portraits[0]
	img := readImage(b, filepath.Join(dir, p.file))
	defer img.Close()
	f := fitTwice(b, m, img, p.box)
	b.ResetTimer()
	for b.Loop() {
		crop, _, err := Align(img, f, 256)
		if err != nil {
			b.Fatal(err)
		}
		crop.Close()
	}
}
