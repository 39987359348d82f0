package nn

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	mlmodel "github.com/gomlx/gomlx/ml/model"
)

func testPlan() []Layer {
	return []Layer{
		{Kind: Conv, Name: "enc/conv0", In: 3, Out: 5, K: 3, Stride: 2, Pad: SamePad(8, 3, 2), Act: LeakyReLU},
		{Kind: Dense, Name: "enc/dense", In: 4 * 4 * 5, Out: 6},
		{Kind: Unflatten, Shape: [3]int{1, 1, 6}},
		{Kind: Conv, Name: "head", In: 6, Out: 1, K: 1, Stride: 1},
	}
}

func randomWeights(plan []Layer, seed uint64) map[string]Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := map[string]Tensor{}
	for _, l := range plan {
		wd, bd := l.WeightDims()
		if wd == nil {
			continue
		}
		// In a fixed order, so that a seed gives the same weights every run.
		for _, p := range []struct {
			name string
			dims []int
		}{{l.Name + "/weights", wd}, {l.Name + "/biases", bd}} {
			t := Tensor{Dims: p.dims, Data: make([]float32, prod(p.dims))}
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64())
			}
			w[p.name] = t
		}
	}
	return w
}

// TestReadONNXRoundTrip: the weights read back from an exported model are
// those exported, in the plan's layout (a transposition mistake in either
// direction would scramble the conv kernels), and SetWeights puts them in
// a store where Weights finds them unchanged.
func TestReadONNXRoundTrip(t *testing.T) {
	plan := testPlan()
	want := randomWeights(plan, 7)
	var buf bytes.Buffer
	if err := WriteONNX(&buf, plan, want, ExportOptions{InputShape: [3]int{8, 8, 3}, OutputShape: [3]int{1, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadONNX(buf.Bytes(), plan)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b map[string]Tensor) bool {
		if len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !slices.Equal(v.Dims, b[k].Dims) || !slices.Equal(v.Data, b[k].Data) {
				return false
			}
		}
		return true
	}
	if !same(got, want) {
		t.Fatal("weights read back differ from those written")
	}
	store := mlmodel.NewStore()
	if err := SetWeights(store, plan, got); err != nil {
		t.Fatal(err)
	}
	back, err := Weights(store, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !same(back, want) {
		t.Fatal("weights from the store differ from those set")
	}
	// Re-exporting the read weights gives the same file, byte for byte.
	var again bytes.Buffer
	if err := WriteONNX(&again, plan, back, ExportOptions{InputShape: [3]int{8, 8, 3}, OutputShape: [3]int{1, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Error("re-exported model differs")
	}
}

func TestReadONNXRejects(t *testing.T) {
	plan := testPlan()
	var buf bytes.Buffer
	if err := WriteONNX(&buf, plan, randomWeights(plan, 1), ExportOptions{InputShape: [3]int{8, 8, 3}, OutputShape: [3]int{1, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	wider := testPlan()
	wider[0].Out, wider[1].In = 6, 4*4*6
	for name, c := range map[string]struct {
		data []byte
		plan []Layer
	}{
		"another architecture": {buf.Bytes(), wider},
		"not a model":          {[]byte("\x0a\x03abc\xff\xff"), plan},
		"empty":                {nil, plan},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadONNX(c.data, c.plan)
			if err == nil {
				t.Fatal("no error")
			}
			if name != "not a model" && !errors.Is(err, ErrNotPlan) {
				t.Errorf("%v, want ErrNotPlan", err)
			}
		})
	}
}

// FuzzReadONNX: a model file is read from the registry and from files an
// operator names, so a damaged or hostile one must give an error, never a
// panic, and whatever it accepts has the plan's shapes.
func FuzzReadONNX(f *testing.F) {
	plan := testPlan()
	var buf bytes.Buffer
	if err := WriteONNX(&buf, plan, randomWeights(plan, 3), ExportOptions{InputShape: [3]int{8, 8, 3}, OutputShape: [3]int{1, 1, 1}}); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	shapes, err := ReadONNX(good, plan)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte("not a model"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadONNX(data, plan)
		if err != nil {
			return
		}
		if len(got) != len(shapes) {
			t.Fatalf("accepted %d tensors, the plan has %d", len(got), len(shapes))
		}
		for name, tns := range got {
			n := 1
			for _, d := range tns.Dims {
				n *= d
			}
			if !slices.Equal(tns.Dims, shapes[name].Dims) || n != len(tns.Data) {
				t.Fatalf("%s: dims %v with %d values, the plan's are %v", name, tns.Dims, len(tns.Data), shapes[name].Dims)
			}
		}
	})
}
