package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
	"github.com/trueframe/trueframe/internal/isolate"
)

// A generator job's files live in the blob store under
// generator/<job id>/ (the job's EvidenceDir), where every generator node
// reaches them:
//
//	inputs/<field>/<nn-name>  the videos the API received
//	artifacts/<path>          the job's out/ directory: what clients download,
//	                          and a training job's checkpoint (out/model)
//	state/<path>              the rest of what a job resumes from (genjobs.StateFiles)
//
// An attempt runs in a local directory made from them, and stores its
// outputs back as its stages end and when it ends, so that whichever node
// takes the job next resumes where the last one left it.
const (
	GeneratorInputs    = "inputs/"
	GeneratorArtifacts = "artifacts/"
	generatorState     = "state/"
)

// GeneratorPrefix is the blob prefix of a generator job's files.
func GeneratorPrefix(id string) string { return "generator/" + id + "/" }

// GeneratorFiles gives a generator node the files of its jobs. A nil
// *GeneratorFiles leaves jobs as they are: their paths are local ones.
type GeneratorFiles struct {
	Blobs *blobs.Store
	// CacheDir holds the directories of the attempts in progress. It is
	// the process's own: the first Local removes what an earlier process
	// left there. Empty: os.TempDir(), which is shared, so never swept.
	CacheDir string

	swept sync.Once
}

// generatorWorkPrefix starts the name of an attempt's directory.
const generatorWorkPrefix = "generator-"

// progressEvery is how often a running job's progress file is stored, at
// most: API nodes show it as the job's detail.
const progressEvery = 2 * time.Second

// generatorAttempt is one attempt of a generator job on this node.
type generatorAttempt struct {
	f      *GeneratorFiles
	prefix string // the job's blob prefix
	root   string // the attempt's directory: the job's and its model's
	wd     string // the job's directory in root

	mu           sync.Mutex
	progressAt   time.Time // when progress.json was last looked at
	progressTime time.Time // its modification time when last stored
	// The training checkpoint last seen, and the one last stored (see
	// shipCheckpoint).
	seenCheckpoint, storedCheckpoint checkpointState
}

// checkpointState identifies the newest training checkpoint in out/model:
// its file name and the total size of the model directory.
type checkpointState struct {
	newest string
	size   int64
}

// Local prepares an attempt of job on this node: its inputs, and what an
// earlier attempt stored, are fetched into a fresh local directory, and
// the returned job's parameters name them by their local paths (WorkDir
// the directory; ModelDir, for a job that uses another's model, that
// job's model next to it, as "../<id>/out/model"). On error it returns
// job itself; an input or model no longer stored is an *isolate.Error of
// code genjobs.CodeFailed, which no retry would mend.
func (f *GeneratorFiles) Local(ctx context.Context, job store.Job) (store.Job, *generatorAttempt, error) {
	if f == nil {
		return job, nil, nil
	}
	root := f.CacheDir
	if root == "" {
		root = os.TempDir()
	} else {
		f.swept.Do(func() { sweepPrefix(root, generatorWorkPrefix) })
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return job, nil, err
	}
	dir, err := os.MkdirTemp(root, generatorWorkPrefix+job.ID+"-*")
	if err != nil {
		return job, nil, err
	}
	a := &generatorAttempt{f: f, prefix: job.EvidenceDir, root: dir, wd: filepath.Join(dir, job.ID)}
	local, err := a.fetch(ctx, job)
	if err != nil {
		a.cleanup()
		return job, nil, err
	}
	return local, a, nil
}

func (a *generatorAttempt) fetch(ctx context.Context, job store.Job) (store.Job, error) {
	var p genjobs.Params
	if err := json.Unmarshal(job.Params, &p); err != nil {
		return job, fmt.Errorf("reading the job's parameters: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(a.wd, "out"), 0o700); err != nil {
		return job, err
	}
	for _, d := range []struct{ prefix, dir string }{
		{a.prefix + GeneratorInputs, filepath.Join(a.wd, "inputs")},
		{a.prefix + generatorState, a.wd},
		{a.prefix + GeneratorArtifacts, filepath.Join(a.wd, "out")},
	} {
		if _, err := a.fetchTree(ctx, d.prefix, d.dir); err != nil {
			return job, fmt.Errorf("fetching the job's files: %w", err)
		}
	}
	for field, inputs := range p.Inputs {
		for i, in := range inputs {
			local := filepath.Join(a.wd, filepath.FromSlash(in))
			if _, err := os.Stat(local); err != nil {
				return job, &isolate.Error{Kind: isolate.KindGenerate, Code: genjobs.CodeFailed, Message: fmt.Sprintf("the input %s is no longer stored", path.Base(in))}
			}
			p.Inputs[field][i] = local
		}
	}
	if p.Model != "" {
		dir := filepath.Join(a.root, p.Model, "out", "model")
		n, err := a.fetchTree(ctx, GeneratorPrefix(p.Model)+GeneratorArtifacts+"model/", dir)
		if err != nil {
			return job, fmt.Errorf("fetching the model of %s: %w", p.Model, err)
		}
		if n == 0 {
			return job, &isolate.Error{Kind: isolate.KindGenerate, Code: genjobs.CodeFailed, Message: fmt.Sprintf("the model of job %s is no longer stored (the job was deleted)", p.Model)}
		}
		p.ModelDir = dir
	}
	p.WorkDir = a.wd
	params, err := json.Marshal(p)
	if err != nil {
		return job, err
	}
	local := job
	local.Params, local.EvidenceDir = params, a.wd
	return local, nil
}

// fetchTree copies the blobs under prefix to dir, each with the blob's
// modification time, so that saveTree knows them unchanged, and returns
// how many there were.
func (a *generatorAttempt) fetchTree(ctx context.Context, prefix, dir string) (int, error) {
	objs, err := a.f.Blobs.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	for _, o := range objs {
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(o.Key, prefix)))
		if _, _, err := a.f.Blobs.Fetch(ctx, o.Key, dst); err != nil {
			return 0, err
		}
		os.Chtimes(dst, o.ModTime, o.ModTime)
	}
	return len(objs), nil
}

// Save stores what the attempt's directory holds of the job's outputs:
// out/ as the artifacts, then the state files in their order (the
// progress file, which names the stage, last). Files stored unchanged
// since are not sent again; blobs of files no longer there are deleted.
func (a *generatorAttempt) Save(ctx context.Context) error {
	if a == nil {
		return nil
	}
	if err := a.saveTree(ctx, a.prefix+GeneratorArtifacts, filepath.Join(a.wd, "out")); err != nil {
		return fmt.Errorf("storing the job's artifacts: %w", err)
	}
	for _, name := range genjobs.StateFiles {
		local := filepath.Join(a.wd, name)
		st, err := os.Stat(local)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return err
		case st.IsDir():
			err = a.saveTree(ctx, a.prefix+generatorState+name+"/", local)
		default:
			_, _, err = a.f.Blobs.PutFile(ctx, a.prefix+generatorState+name, local, nil)
		}
		if err != nil {
			return fmt.Errorf("storing the job's state: %w", err)
		}
	}
	return nil
}

// saveTree makes the blobs under prefix what dir holds.
func (a *generatorAttempt) saveTree(ctx context.Context, prefix, dir string) error {
	objs, err := a.f.Blobs.List(ctx, prefix)
	if err != nil {
		return err
	}
	stored := make(map[string]blobs.Object, len(objs))
	for _, o := range objs {
		stored[o.Key] = o
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := prefix + filepath.ToSlash(rel)
		o, had := stored[key]
		delete(stored, key)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if had && o.Size == info.Size() && !info.ModTime().After(o.ModTime) {
			return nil // stored since it last changed
		}
		_, _, err = a.f.Blobs.PutFile(ctx, key, p, nil)
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for key := range stored {
		if err := a.f.Blobs.Delete(ctx, key); err != nil && !errors.Is(err, blobs.ErrNotFound) {
			return err
		}
	}
	return nil
}

// progress stores the job's progress file when it changed, at most every
// progressEvery. Errors are ignored: the detail is advisory.
func (a *generatorAttempt) progress(ctx context.Context) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if time.Since(a.progressAt) < progressEvery {
		return
	}
	a.progressAt = time.Now()
	local := filepath.Join(a.wd, genjobs.ProgressFile)
	st, err := os.Stat(local)
	if err != nil || st.ModTime().Equal(a.progressTime) {
		return
	}
	if _, _, err := a.f.Blobs.PutFile(ctx, a.prefix+generatorState+genjobs.ProgressFile, local, nil); err == nil {
		a.progressTime = st.ModTime()
	}
	a.shipCheckpoint(ctx)
}

// shipCheckpoint stores the job's files when the trainer has written a
// new checkpoint, so that a node killed mid-training (kill -9, a lost
// machine: no graceful Save) costs the next attempt, here or elsewhere,
// at most one checkpoint interval. A checkpoint is stored once it has
// stayed the same between two looks (progressEvery apart), not while it
// is being written; were a half-written one stored all the same, the
// model loader sets it aside and resumes from the one before. Errors are
// ignored: the next new checkpoint, or the attempt's end, stores again.
func (a *generatorAttempt) shipCheckpoint(ctx context.Context) {
	dir := filepath.Join(a.wd, "out", "model")
	jsons, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.json"))
	if len(jsons) == 0 {
		return
	}
	var cur checkpointState
	for _, j := range jsons {
		cur.newest = max(cur.newest, filepath.Base(j))
	}
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				cur.size += info.Size()
			}
		}
		return nil
	})
	settled := cur == a.seenCheckpoint
	a.seenCheckpoint = cur
	if !settled || cur == a.storedCheckpoint {
		return
	}
	if err := a.Save(ctx); err == nil {
		a.storedCheckpoint = cur
	}
}

// drop removes the job's files from the blob store: it was deleted while
// the attempt ran, and the attempt may have stored some since the delete.
func (a *generatorAttempt) drop(ctx context.Context) {
	if a != nil {
		a.f.Drop(ctx, a.prefix)
	}
}

// Drop removes a deleted generator job's files (under prefix) from the
// blob store. A failure leaves blobs that the API nodes' orphan sweep
// removes.
func (f *GeneratorFiles) Drop(ctx context.Context, prefix string) {
	if f != nil && f.Blobs != nil && strings.HasPrefix(prefix, "generator/") {
		f.Blobs.DeleteAll(ctx, prefix)
	}
}

// cleanup removes the attempt's local directory.
func (a *generatorAttempt) cleanup() {
	if a != nil {
		os.RemoveAll(a.root)
	}
}

// GeneratorProgress returns the progress file a running or finished
// generator job stored (its detail), or nil.
func GeneratorProgress(ctx context.Context, b *blobs.Store, prefix string) []byte {
	r, err := b.NewReader(ctx, prefix+generatorState+genjobs.ProgressFile)
	if err != nil {
		return nil
	}
	defer r.Close()
	buf := make([]byte, min(r.Size(), 64<<10))
	if _, err := r.ReadAt(buf, 0); err != nil && len(buf) > 0 {
		return nil
	}
	return buf
}
