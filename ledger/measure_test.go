package ledger

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/ledger/fingerprint"
	"github.com/trueframe/trueframe/media/video"
)

// TestMeasureVerify is the acceptance measurement of face-aware
// provenance, through Verify as a user meets it: it registers the shared
// real clips (and, for a lip-sync stand-in with faces wide enough, three
// talking-head clips of the dev set's train split), then verifies
//
//   - every platform copy of each (videofix.Platforms): must be
//     matches_original;
//   - manipulations over 1–4 s (the middle half of a clip shorter than 8
//     s, so that most of it still shows the original) made with the
//     project's tools: the face
//     self-blended, another person's face pasted (media/blend), the
//     generator's swaps listed in TRUEFRAME_MEASURE_SWAPS
//     (clip=swapped.mp4,..., spliced in over 1–4 s), the mouth pasted from
//     another take of the same speaker, and (harder, reported apart) the
//     mouth from 1.5 s later in the same clip: must be altered_original
//     with a face span overlapping the manipulated span and within a
//     second of it.
//
// It prints every verdict and the counts, and asserts nothing. It runs
// only with TRUEFRAME_MEASURE=1.
func TestMeasureVerify(t *testing.T) {
	if os.Getenv("TRUEFRAME_MEASURE") == "" {
		t.Skip("set TRUEFRAME_MEASURE=1 to measure")
	}
	r := measureRegistry(t)
	fm := videofix.LoadFaceModels(t, filepath.Join(testutil.DepsDir(t), "models"))
	videos := testutil.SharedDir(t, "data", "videos")
	var clips []string
	for _, folder := range []string{"portrait", "grid", "multiface"} {
		ms, _ := filepath.Glob(filepath.Join(videos, "real", folder, "*"))
		clips = append(clips, ms...)
	}
	takes := filepath.Join(videos, "dev", "real", "real-talkinghead")
	obama1, obama2 := filepath.Join(takes, "styletalk_src_Obama_clip1.mp4"), filepath.Join(takes, "styletalk_src_Obama_clip2.mp4")
	fomm := filepath.Join(videos, "dev", "real", "real-vox", "fomm_demo_00.mp4")
	clips = append(clips, obama1, obama2, fomm)
	mouths := map[string]string{obama1: obama2, obama2: obama1, fomm: obama1}
	swaps := map[string]string{}
	for _, kv := range strings.Split(os.Getenv("TRUEFRAME_MEASURE_SWAPS"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			swaps[filepath.Join(videos, "real", k)] = v
		}
	}
	dir := t.TempDir()
	for _, c := range clips {
		if _, err := r.Register(t.Context(), c, filepath.Base(c)); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	type tally struct{ cases, ok int }
	counts := map[string]*tally{}
	var report, wrong []string
	count := func(kind string, ok bool, line string) {
		if counts[kind] == nil {
			counts[kind] = &tally{}
		}
		counts[kind].cases++
		if ok {
			counts[kind].ok++
		} else {
			wrong = append(wrong, line)
		}
		report = append(report, line)
	}
	for ci, c := range clips {
		name := filepath.Base(c)
		dur := clipDuration(t, c)
		from, to := min(time.Second, dur/4), min(4*time.Second, 3*dur/4)
		for _, p := range videofix.Platforms(videofix.FPS(t, c)) {
			out := filepath.Join(dir, fmt.Sprintf("c%d-%s.mp4", ci, p.Name))
			videofix.FFmpeg(t, c, out, p.Args...)
			v := verify(t, r, out)
			ok := v.Status == MatchesOriginal && v.Original != nil && v.Original.Meta == name
			count("copy "+p.Name, ok, fmt.Sprintf("%s %s: %s — %s", name, p.Name, v.Status, v.Explanation))
			os.Remove(out)
		}
		donor := filepath.Join(videos, "real", "portrait", "d9.mp4")
		if name == "d9.mp4" {
			donor = filepath.Join(videos, "real", "portrait", "d10.mp4")
		}
		edits := map[string]videofix.Edit{
			"self-blend":    fm.SelfBlend(t, nil, from, to, nil),
			"pasted swap":   fm.SwapFrom(t, donor, nil, from, to, nil),
			"mouth shifted": fm.MouthFrom(t, c, 1500*time.Millisecond, from, to, nil),
		}
		if o := mouths[c]; o != "" {
			edits["mouth of another take"] = fm.MouthFrom(t, o, 0, from, to, nil)
		}
		if sw := swaps[c]; sw != "" {
			edits["generator swap"] = videofix.FramesFrom(t, sw, from, to, nil)
		}
		for kind, e := range edits {
			out := filepath.Join(dir, fmt.Sprintf("m%d-%s.mp4", ci, strings.ReplaceAll(kind, " ", "-")))
			videofix.Transcode(t, c, out, videofix.Options{Edit: e})
			v := verify(t, r, out)
			ok := v.Status == AlteredOriginal && v.Original != nil && v.Original.Meta == name
			var faces []string
			hit := false
			if v.Match != nil {
				for _, f := range v.Match.Faces {
					faces = append(faces, f.Description)
					if f.StartS < to.Seconds() && f.EndS > from.Seconds() && f.StartS >= from.Seconds()-1 && f.EndS <= to.Seconds()+1 {
						hit = true
					}
				}
			}
			count(kind, ok && hit, fmt.Sprintf("%s %s: %s %v — %s", name, kind, v.Status, faces, v.Explanation))
			os.Remove(out)
		}
	}
	t.Logf("\n%s", strings.Join(report, "\n"))
	var b strings.Builder
	for kind, c := range counts {
		fmt.Fprintf(&b, "  %-24s %3d of %3d\n", kind, c.ok, c.cases)
	}
	t.Logf("as wanted (copies matches_original; manipulations altered_original with a face over the manipulated span ± 1 s):\n%s", b.String())
	t.Logf("not as wanted:\n%s", strings.Join(wrong, "\n"))
}

// measureRegistry opens a registry with faces for a measurement, of the
// fingerprint version TRUEFRAME_FP_VERSION (default: the latest), so that
// a measurement can be repeated as an older version registered and checked.
func measureRegistry(t *testing.T) *Registry {
	t.Helper()
	v, _ := strconv.Atoi(os.Getenv("TRUEFRAME_FP_VERSION"))
	t.Logf("fingerprint version %d (0: the latest)", v)
	return openRegistry(t, t.TempDir(), Options{Fingerprinter: InProcess{Options: &fingerprint.Options{Faces: faceModels(t), Version: v}}})
}

// clipDuration returns the duration of a clip as its container states it.
func clipDuration(t *testing.T, path string) time.Duration {
	t.Helper()
	d, err := video.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if cfg := d.Config(); cfg.Duration > 0 {
		return cfg.Duration
	}
	return time.Duration(float64(d.Config().FrameCount) / d.Config().FPS * float64(time.Second))
}
