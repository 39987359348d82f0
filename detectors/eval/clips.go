package eval

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Labels of a clip.
const (
	Real = "real"
	Fake = "fake"
)

// Clip is one labelled video to score.
type Clip struct {
	Path   string `json:"path"`
	Label  string `json:"label"`  // Real or Fake
	Method string `json:"method"` // the tool that made a fake, or where a real clip comes from
	Split  string `json:"split,omitempty"`
	// Parent is the real clip a fake was made from, when known.
	Parent string `json:"parent,omitempty"`
	// Licence is the clip's licence as its manifest states it ("" when
	// the source gives none: a folder, a dataset the project made).
	Licence string `json:"licence,omitempty"`
}

// Permissive reports whether a licence lets a model trained on the clip
// ship with the project: MIT, Apache-2.0, BSD, CC0 or CC BY (not
// non-commercial, not research-only terms). Clips the project made itself
// (no licence stated) are permissive; manifest lines that state no
// licence ("none found") are not.
func (c Clip) Permissive() bool {
	l := strings.ToLower(c.Licence)
	if l == "" {
		return true
	}
	for _, bad := range []string{"-nc", " nc", "non-commercial", "noncommercial", "research", "terms of use", "none"} {
		if strings.Contains(l, bad) {
			return false
		}
	}
	for _, ok := range []string{"mit", "apache", "bsd", "cc0", "cc by"} {
		if strings.HasPrefix(l, ok) {
			return true
		}
	}
	return false
}

// IsFake reports whether the clip is labelled fake.
func (c Clip) IsFake() bool { return c.Label == Fake }

// SplitHeldOut selects, in a dev manifest, the train split's clips whose
// licence keeps them out of every --permissive fit, and the wild real
// clips beside it that no model learned from (LoadWildReals): the shipped
// models never saw them, so they measure a candidate without touching the
// test split, which is reported once per model and never used to choose.
const SplitHeldOut = "heldout"

// ErrNoClips is returned when a source lists no clip of the asked split.
var ErrNoClips = errors.New("eval: no clips")

// FormatError reports a malformed manifest line or file.
type FormatError struct {
	File string
	Line int // 0 when not line-based
	Err  error
}

func (e *FormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("eval: %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("eval: %s: %v", e.File, e.Err)
}
func (e *FormatError) Unwrap() error { return e.Err }

// Load reads the clips of src: a dev-set manifest (.tsv with columns
// label, method, split, file, …), a generator dataset manifest (.json, see
// generator/dataset), or a folder holding real/ and fake/<method>/. split
// selects dev-manifest lines ("test", "train", or "all"/"" for every line;
// SplitHeldOut adds LoadWildReals of the manifest beside, when there is
// one); other sources have no split and ignore it.
func Load(src, split string) ([]Clip, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	var clips []Clip
	switch {
	case st.IsDir():
		clips, err = LoadFolders(src)
	case strings.HasSuffix(src, ".tsv"):
		clips, err = LoadDevManifest(src, split)
		// The held-out split is also measured on the real clips from the
		// wild that no model learned from, when the shared data has them:
		// the dev set's twelve held-out reals alone are studio and
		// VoxCeleb footage, on which the detectors looked far better than
		// on news, talk and phone video.
		if err == nil && split == SplitHeldOut {
			var wild []Clip
			if wild, err = LoadWildReals(WildRealsManifest(src)); errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			clips = append(clips, wild...)
		}
	case strings.HasSuffix(src, ".json"):
		clips, err = LoadDatasetManifest(src)
	default:
		return nil, fmt.Errorf("eval: %s: want a .tsv manifest, a dataset manifest.json or a folder with real/ and fake/", src)
	}
	if err != nil {
		return nil, err
	}
	if len(clips) == 0 {
		return nil, fmt.Errorf("%w in %s (split %q)", ErrNoClips, src, split)
	}
	return clips, nil
}

// LoadDevManifest reads a tab-separated manifest whose header names at
// least the columns label, method, split and file (file relative to the
// manifest's folder), keeping the lines of split ("" or "all": every line;
// SplitHeldOut: the train split's clips that are not Permissive).
func LoadDevManifest(path, split string) ([]Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseDevManifest(f, path, split)
}

func parseDevManifest(r io.Reader, path, split string) ([]Clip, error) {
	if split == "all" {
		split = ""
	}
	var clips []Clip
	err := readTSV(r, path, []string{"label", "method", "split", "file"}, func(line int, get func(string) string) error {
		c := Clip{Label: get("label"), Method: get("method"), Split: get("split"), Path: get("file"), Licence: get("licence")}
		if c.Label != Real && c.Label != Fake {
			return &FormatError{File: path, Line: line, Err: fmt.Errorf("label %q is neither %q nor %q", c.Label, Real, Fake)}
		}
		if c.Path == "" || c.Method == "" {
			return &FormatError{File: path, Line: line, Err: errors.New("empty file or method")}
		}
		if !insideFolder(c.Path) {
			return &FormatError{File: path, Line: line, Err: fmt.Errorf("file %q is not inside the manifest's folder", c.Path)}
		}
		switch split {
		case "":
		case SplitHeldOut:
			if c.Split != "train" || c.Permissive() {
				return nil
			}
		default:
			if c.Split != split {
				return nil
			}
		}
		c.Path = filepath.Join(filepath.Dir(path), c.Path)
		clips = append(clips, c)
		return nil
	})
	return clips, err
}

// readTSV reads a tab-separated file whose first line names its columns
// (need must be among them) and calls row for each later line that is not
// empty or a # comment, with a getter of the line's fields by column name.
func readTSV(r io.Reader, path string, need []string, row func(line int, get func(column string) string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	col := map[string]int{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(col) == 0 {
			for i, name := range fields {
				col[strings.TrimSpace(name)] = i
			}
			for _, n := range need {
				if _, ok := col[n]; !ok {
					return &FormatError{File: path, Line: line, Err: fmt.Errorf("header has no %q column", n)}
				}
			}
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(fields) {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		if err := row(line, get); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &FormatError{File: path, Err: err}
	}
	if len(col) == 0 {
		return &FormatError{File: path, Err: errors.New("empty manifest")}
	}
	return nil
}

// WildRealsManifest is where, beside a dev manifest, the shared data keeps
// its manifest of real clips from the wild (news, interviews, talks, phone
// and stock video; ../shared/data/train/real_videos).
func WildRealsManifest(devManifest string) string {
	return filepath.Join(filepath.Dir(devManifest), "..", "..", "train", "real_videos", "manifest.tsv")
}

// LoadWildReals reads the real clips of a wild-reals manifest (columns
// label, file, licence; file relative to its folder) that no shipped model
// learned from: all but the Pexels stock clips, which the project trains
// on by name (scripts/train-detectors; no fit reads this manifest). Their
// method is "wild-" and their folder.
func LoadWildReals(path string) ([]Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseWildReals(f, path)
}

func parseWildReals(r io.Reader, path string) ([]Clip, error) {
	var clips []Clip
	err := readTSV(r, path, []string{"label", "file", "licence"}, func(line int, get func(string) string) error {
		c := Clip{Label: get("label"), Path: get("file"), Licence: get("licence"), Split: "train"}
		if c.Label != Real || c.Path == "" || !insideFolder(c.Path) {
			return &FormatError{File: path, Line: line, Err: fmt.Errorf("want a real clip inside the manifest's folder, not %q %q", c.Label, c.Path)}
		}
		if strings.HasPrefix(strings.ToLower(c.Licence), "pexels") {
			return nil
		}
		folder, _, _ := strings.Cut(filepath.ToSlash(c.Path), "/")
		c.Method = "wild-" + folder
		c.Path = filepath.Join(filepath.Dir(path), c.Path)
		clips = append(clips, c)
		return nil
	})
	return clips, err
}

// datasetManifest is the part of generator/dataset's manifest eval reads
// (declared here so that detectors do not import the generator).
type datasetManifest struct {
	Real  string `json:"real"`
	Items []struct {
		File   string `json:"file"`
		Label  string `json:"label"`
		Method string `json:"method"`
		Parent string `json:"parent"`
	} `json:"items"`
}

// LoadDatasetManifest reads a generator dataset manifest: its items are the
// fakes (method self_blend, autoencoder_swap, …) and the real clips they
// were made from are the reals.
func LoadDatasetManifest(path string) ([]Clip, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m datasetManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &FormatError{File: path, Err: err}
	}
	dir := filepath.Dir(path)
	// The generator records the real folder and parents as its command
	// line named them: relative to where it ran, which may not be here.
	// Each is taken as given when it exists, else inside the real folder
	// (itself as given, else beside the manifest).
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	realDir := m.Real
	if realDir != "" && !exists(realDir) && !filepath.IsAbs(realDir) {
		realDir = filepath.Join(dir, realDir)
	}
	var clips []Clip
	parents := map[string]bool{}
	for i, it := range m.Items {
		if !insideFolder(it.File) {
			return nil, &FormatError{File: path, Err: fmt.Errorf("item %d: file %q is not inside the dataset folder", i, it.File)}
		}
		label := it.Label
		if label == "" {
			label = Fake
		}
		if label != Real && label != Fake {
			return nil, &FormatError{File: path, Err: fmt.Errorf("item %d: label %q", i, label)}
		}
		c := Clip{Path: filepath.Join(dir, it.File), Label: label, Method: it.Method, Parent: it.Parent}
		if c.Method == "" {
			c.Method = "unknown"
		}
		clips = append(clips, c)
		if it.Parent != "" {
			parents[it.Parent] = true
		}
	}
	var names []string
	for p := range parents {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		full := p
		if !exists(full) {
			full = filepath.Join(realDir, filepath.Base(p))
		}
		clips = append(clips, Clip{Path: full, Label: Real, Method: "real"})
	}
	return clips, nil
}

// LoadFolders reads dir/real/** as reals (method: the sub-folder, or
// "real") and dir/fake/<method>/** as fakes.
func LoadFolders(dir string) ([]Clip, error) {
	var clips []Clip
	for _, label := range []string{Real, Fake} {
		root := filepath.Join(dir, label)
		if _, err := os.Stat(root); err != nil {
			return nil, fmt.Errorf("eval: %s: %w", dir, err)
		}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isVideoName(p) {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			method := label
			if i := strings.IndexRune(rel, filepath.Separator); i > 0 {
				method = rel[:i]
			}
			if label == Fake && method == Fake {
				method = "unknown"
			}
			clips = append(clips, Clip{Path: p, Label: label, Method: method})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return clips, nil
}

// insideFolder reports whether the relative path p names a file inside the
// folder it is relative to (not the folder itself, not above it).
func insideFolder(p string) bool {
	c := filepath.Clean(p)
	return p != "" && !filepath.IsAbs(p) && c != "." && c != ".." && !strings.HasPrefix(c, "../")
}

func isVideoName(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".mp4", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v":
		return true
	}
	return false
}
