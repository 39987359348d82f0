package landmark

import (
	"encoding/xml"
	"flag"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

// vizDir, when set, makes the accuracy tests write annotated images there
// for a human to look at: go test ./media/landmark -landmark.viz=/tmp/viz
var vizDir = flag.String("landmark.viz", "", "directory to write annotated debug images to")

// newTestMesher loads the installed models, or fails the test.
func newTestMesher(tb testing.TB) *Mesher {
	tb.Helper()
	testutil.InitORT(tb)
	dir := filepath.Dir(testutil.ModelPath(tb, FaceMeshFile))
	m, err := New(Options{ModelDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// readImage loads a BGR image; the caller must Close it.
func readImage(tb testing.TB, path string) gocv.Mat {
	tb.Helper()
	img := gocv.IMRead(path, gocv.IMReadColor)
	if img.Empty() {
		img.Close()
		tb.Fatalf("cannot read %s", path)
	}
	return img
}

// annotated is one face of a dlib imglab landmark file.
type annotated struct {
	File   string
	Box    media.Rect
	Points []media.Point // 68, in iBUG 300-W order
}

// readImglab parses a dlib imglab XML file (<image file><box top left width
// height><part name x y/>...) and returns its faces with all 68 points.
func readImglab(tb testing.TB, path string) []annotated {
	tb.Helper()
	type part struct {
		Name string  `xml:"name,attr"`
		X    float64 `xml:"x,attr"`
		Y    float64 `xml:"y,attr"`
	}
	type box struct {
		Top    float64 `xml:"top,attr"`
		Left   float64 `xml:"left,attr"`
		Width  float64 `xml:"width,attr"`
		Height float64 `xml:"height,attr"`
		Ignore int     `xml:"ignore,attr"`
		Parts  []part  `xml:"part"`
	}
	var doc struct {
		Images []struct {
			File  string `xml:"file,attr"`
			Boxes []box  `xml:"box"`
		} `xml:"images>image"`
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	// The files declare ISO-8859-1 but hold only ASCII.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&doc); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var out []annotated
	for _, im := range doc.Images {
		for _, b := range im.Boxes {
			if b.Ignore != 0 || len(b.Parts) != 68 {
				continue
			}
			a := annotated{File: im.File, Box: media.Rect{X: b.Left, Y: b.Top, W: b.Width, H: b.Height}, Points: make([]media.Point, 68)}
			ok := true
			for _, p := range b.Parts {
				i, err := strconv.Atoi(p.Name)
				if err != nil || i < 0 || i >= 68 {
					ok = false
					break
				}
				a.Points[i] = media.Point{X: p.X, Y: p.Y}
			}
			if ok {
				out = append(out, a)
			}
		}
	}
	return out
}

func pt(p media.Point) image.Point { return image.Pt(int(p.X+0.5), int(p.Y+0.5)) }

var (
	colGreen = color.RGBA{0, 255, 0, 255}
	colRed   = color.RGBA{255, 0, 0, 255}
	colWhite = color.RGBA{255, 255, 255, 255}
)

// writeViz writes img scaled by scale to vizDir/name when -landmark.viz is set.
func writeViz(tb testing.TB, name string, img gocv.Mat) {
	tb.Helper()
	if *vizDir == "" {
		return
	}
	if err := os.MkdirAll(*vizDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	gocv.IMWrite(filepath.Join(*vizDir, name), img)
}

func image0(m gocv.Mat) image.Rectangle { return image.Rect(0, 0, m.Cols(), m.Rows()) }

// portraits are hand-measured face boxes on frontal photos of the shared data.
// portrait is a real photo with a hand-measured face box.
type portrait struct {
	file string
	box  media.Rect
}

var portraits = []portrait{
	{"obama.jpg", media.Rect{X: 362, Y: 128, W: 256, H: 256}},
	{"grace_hopper_512x512.jpg", media.Rect{X: 170, Y: 115, W: 190, H: 190}},
}

// fitTwice fits the face in box, then refits it in the ROI of its own
// landmarks: what tracking does from the second frame on, and what a
// detector box alone cannot give (it is not rotated and sized like the
// mesh's training crops).
func fitTwice(tb testing.TB, m *Mesher, img gocv.Mat, box media.Rect) Face {
	tb.Helper()
	f, err := m.Fit(img, ROIFromBox(box, nil, nil))
	if err != nil {
		tb.Fatal(err)
	}
	f, err = m.Fit(img, f.NextROI())
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// meanDist returns the mean distance between the points a[i] and b[i].
func meanDist(a, b []media.Point) float64 {
	var s float64
	for i := range a {
		s += a[i].Dist(b[i])
	}
	return s / float64(len(a))
}

// pick returns pts[idx[i]] for each i.
func pick(pts []media.Point, idx []int) []media.Point {
	out := make([]media.Point, len(idx))
	for i, j := range idx {
		out[i] = pts[j]
	}
	return out
}

// fittedPortrait loads the mesher and the first portrait and fits its face;
// the image is closed at cleanup.
func fittedPortrait(tb testing.TB) (*Mesher, gocv.Mat, portrait, Face) {
	tb.Helper()
	m := newTestMesher(tb)
	p := portraits[0]
	img := readImage(tb, filepath.Join(testutil.SharedDir(tb, "data", "images", "faces"), p.file))
	tb.Cleanup(func() { img.Close() })
	return m, img, p, fitTwice(tb, m, img, p.box)
}
