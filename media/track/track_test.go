package track

import (
	"image"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/video"
)

// countingFinder counts how often the face detector runs.
type countingFinder struct {
	face.Detector
	calls int
}

func (c *countingFinder) Detect(img gocv.Mat) ([]face.Detection, error) {
	c.calls++
	return c.Detector.Detect(img)
}

func models(t *testing.T) (*countingFinder, *landmark.Mesher) {
	t.Helper()
	testutil.InitORT(t)
	dir := filepath.Join(testutil.DepsDir(t), "models")
	det, err := face.New(face.Options{ModelDir: dir, MinFaceSize: 56})
	if err != nil {
		t.Fatal(err)
	}
	mesher, err := landmark.New(landmark.Options{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { det.Close(); mesher.Close() })
	return &countingFinder{Detector: det}, mesher
}

// trackClip runs a Tracker over a real clip and returns, per frame, the ids
// it saw.
func trackClip(t *testing.T, tr *Tracker, path string) [][]int {
	t.Helper()
	dec, err := video.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var ids [][]int
	for dec.Next() {
		obs, err := tr.Update(dec.Frame().Image)
		if err != nil {
			t.Fatal(err)
		}
		var frame []int
		for _, o := range obs {
			frame = append(frame, o.ID)
			if o.Face.Presence < 0.5 || len(o.Face.Points) != landmark.NumPoints {
				t.Fatalf("track %d: presence %.2f, %d points", o.ID, o.Face.Presence, len(o.Face.Points))
			}
		}
		ids = append(ids, frame)
	}
	if err := dec.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// One person talking to the camera is one track from start to end, and the
// detector runs only on schedule while landmarks carry the face in between.
func TestOneFaceOneStableTrack(t *testing.T) {
	finder, mesher := models(t)
	for _, clip := range []string{
		filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg"),
		filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "portrait"), "d3.mp4"),
	} {
		t.Run(filepath.Base(clip), func(t *testing.T) {
			finder.calls = 0
			tr := New(finder, mesher, &Options{DetectEvery: 10})
			frames := trackClip(t, tr, clip)
			seen := map[int]int{}
			missing := 0
			for _, ids := range frames {
				if len(ids) == 0 {
					missing++
				}
				for _, id := range ids {
					seen[id]++
				}
			}
			t.Logf("%d frames, tracks %v, frames without a face %d, detector runs %d", len(frames), seen, missing, finder.calls)
			if len(seen) != 1 || seen[1] < len(frames)*95/100 {
				t.Errorf("want one track covering ≥95%% of %d frames, got %v", len(frames), seen)
			}
			if max := len(frames)/10 + 1 + missing; finder.calls > max {
				t.Errorf("detector ran %d times, want at most %d", finder.calls, max)
			}
		})
	}
}

// On stage footage with several people, each face keeps its id while on
// screen: ids are never reused for a different face within a frame.
func TestSeveralFaces(t *testing.T) {
	finder, mesher := models(t)
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "multiface"), "short_hamilton_clip.mp4")
	tr := New(finder, mesher, nil)
	frames := trackClip(t, tr, clip)
	most, seen := 0, map[int]int{}
	for _, ids := range frames {
		dup := map[int]bool{}
		for _, id := range ids {
			if dup[id] {
				t.Fatalf("id %d twice in one frame", id)
			}
			dup[id] = true
			seen[id]++
		}
		most = max(most, len(ids))
	}
	t.Logf("%d frames, up to %d faces at once, tracks (id: frames) %v", len(frames), most, seen)
	if most < 2 {
		t.Errorf("never saw two faces at once on a multi-person clip")
	}
}

// A face that vanishes for a few frames and comes back in the same place
// gets its id back; a new face elsewhere gets a new id.
func TestReviveAndNewFaces(t *testing.T) {
	finder, mesher := models(t)
	portrait := gocv.IMRead(filepath.Join(testutil.SharedDir(t, "data", "images", "faces"), "obama.jpg"), gocv.IMReadColor)
	if portrait.Empty() {
		t.Fatal("cannot read obama.jpg")
	}
	defer portrait.Close()
	// A small copy of the portrait, pasted into a larger grey frame.
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(portrait, &small, image.Pt(portrait.Cols()/3, portrait.Rows()/3), 0, 0, gocv.InterpolationArea)
	frame := func(at ...image.Point) gocv.Mat {
		img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(110, 110, 110, 0), 720, 1280, gocv.MatTypeCV8UC3)
		for _, p := range at {
			roi := img.Region(image.Rect(p.X, p.Y, p.X+small.Cols(), p.Y+small.Rows()))
			small.CopyTo(&roi)
			roi.Close()
		}
		return img
	}
	tr := New(finder, mesher, &Options{DetectEvery: 5, MaxMissed: 15})
	step := func(at ...image.Point) []int {
		img := frame(at...)
		defer img.Close()
		obs, err := tr.Update(img)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for _, o := range obs {
			ids = append(ids, o.ID)
		}
		return ids
	}
	left, right := image.Pt(100, 150), image.Pt(800, 150)
	var first []int
	for i := 0; i < 10; i++ {
		first = step(left.Add(image.Pt(3*i, 0)))
	}
	if len(first) != 1 {
		t.Fatalf("one face on screen: tracks %v", first)
	}
	for i := 0; i < 4; i++ {
		if ids := step(); len(ids) != 0 {
			t.Fatalf("empty frame: tracks %v", ids)
		}
	}
	var back []int
	for i := 0; i < 6; i++ {
		back = step(left.Add(image.Pt(30, 0)))
	}
	if len(back) != 1 || back[0] != first[0] {
		t.Fatalf("face came back as %v, want its old id %v", back, first)
	}
	var both []int
	for i := 0; i < 6; i++ {
		both = step(left.Add(image.Pt(30, 0)), right)
	}
	if len(both) != 2 || both[0] != first[0] || both[1] == first[0] {
		t.Fatalf("a second face: tracks %v, want [%d new]", both, first[0])
	}
}

func TestBadFrame(t *testing.T) {
	finder, mesher := models(t)
	tr := New(finder, mesher, nil)
	if _, err := tr.Update(gocv.Mat{}); err == nil {
		t.Fatal("zero Mat accepted")
	}
	gray := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U)
	defer gray.Close()
	if _, err := tr.Update(gray); err == nil {
		t.Fatal("grayscale Mat accepted")
	}
}

func TestLargest(t *testing.T) {
	square := func(x, side float64) landmark.Face {
		f := landmark.Face{Points: make([]media.Point, landmark.NumPoints)}
		for i := range f.Points {
			f.Points[i] = media.Point{X: x + side*float64(i%2), Y: side * float64((i/2)%2)}
		}
		return f
	}
	obs := []Observation{{ID: 1, Face: square(0, 10)}, {ID: 2, Face: square(100, 40)}, {ID: 3, Face: square(300, 20)}}
	f, ok := Largest(obs)
	if !ok || f.Box().W != 40 || f.Box().X != 100 {
		t.Errorf("Largest = %+v, %v; want the 40-pixel face at x 100", f.Box(), ok)
	}
	if _, ok := Largest(nil); ok {
		t.Error("Largest of no faces reported one")
	}
	if _, ok := Largest([]Observation{{Face: square(5, 0)}}); ok {
		t.Error("a face of zero area counted as the largest")
	}
}

// TestLowLightFindsFacesInDimFrames: the frames of a real portrait clip
// darkened to 6% of their brightness (grey levels 0–15, a dim room) hide
// the face from the face models, unless the tracker seeks it on a
// brightened copy (Options.LowLight); the faces it then finds lie where
// they lie in the frames as they were. A bright frame is sought as it is.
func TestLowLightFindsFacesInDimFrames(t *testing.T) {
	finder, mesher := models(t)
	dec, err := video.Open(filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "portrait"), "d3.mp4"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	plain := New(finder, mesher, nil)
	dimPlain := New(finder, mesher, nil)
	dimLow := New(finder, mesher, &Options{LowLight: true})
	brightLow := New(finder, mesher, &Options{LowLight: true})
	defer dimLow.Close()
	defer brightLow.Close()
	dim := gocv.NewMat()
	defer dim.Close()
	frames, foundPlain, foundLow, compared := 0, 0, 0, 0
	var drift float64
	update := func(tr *Tracker, img gocv.Mat) []Observation {
		obs, err := tr.Update(img)
		if err != nil {
			t.Fatal(err)
		}
		return obs
	}
	for dec.Next() && frames < 60 {
		img := dec.Frame().Image
		img.ConvertToWithParams(&dim, gocv.MatTypeCV8UC3, 0.06, 0)
		ref, same := update(plain, img), update(brightLow, img)
		if len(same) != len(ref) || len(ref) > 0 && same[0].Face.Points[1] != ref[0].Face.Points[1] {
			t.Fatalf("frame %d: LowLight changed what is found in a bright frame", frames)
		}
		a, b := update(dimPlain, dim), update(dimLow, dim)
		frames++
		if len(a) > 0 {
			foundPlain++
		}
		if len(b) > 0 {
			foundLow++
			if len(ref) > 0 {
				r, g := ref[0].Face.Box(), b[0].Face.Box()
				drift += r.Center().Dist(g.Center()) / r.W
				compared++
			}
		}
	}
	if compared > 0 {
		drift /= float64(compared)
	}
	t.Logf("%d frames at 6%% of their brightness: a face in %d as they are, %d brightened; mean centre offset %.3f face widths", frames, foundPlain, foundLow, drift)
	if foundLow < frames*9/10 {
		t.Errorf("LowLight found a face in %d of %d dim frames", foundLow, frames)
	}
	if foundPlain >= foundLow {
		t.Errorf("dim frames as they are: a face in %d, brightened %d; the test's frames are not dim enough to tell", foundPlain, foundLow)
	}
	if drift > 0.05 {
		t.Errorf("faces found in dim frames are %.3f face widths from those in the frames as they were", drift)
	}
}
