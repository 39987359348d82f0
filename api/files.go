package api

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
)

// An analysis's files live in the blob store, where every node reaches
// them: its upload at uploads/<job id><container extension> (the job's
// FilePath) and its evidence images under evidence/<job id>/ (the job's
// EvidenceDir). Uploads are received into DataDir/uploads/tmp first, to be
// hashed and checked before they are stored.

// deleteBlobs removes an analysis's upload and evidence from the blob
// store; what is already gone is no error. Not the request's context: a
// client leaving must not leave half the files behind.
func (s *Server) deleteBlobs(ctx context.Context, j store.Job) error {
	ctx = context.WithoutCancel(ctx)
	err := s.blobs.Delete(ctx, j.FilePath)
	if errors.Is(err, blobs.ErrNotFound) {
		err = nil
	}
	_, eerr := s.blobs.DeleteAll(ctx, j.EvidenceDir)
	return errors.Join(err, eerr)
}

// uploadKey is the blob key of an analysis's upload: the job id, and the
// extension of the container its bytes are, for whoever browses the store.
func uploadKey(id, container string) string {
	return "uploads/" + id + containerExt(container)
}

// evidencePrefix is the blob prefix of an analysis's evidence images.
func evidencePrefix(id string) string { return "evidence/" + id + "/" }

// containerExt is the usual file extension of a container media/video
// recognises ("" for the others).
func containerExt(container string) string {
	switch container {
	case "mp4", "mov", "webm", "avi", "flv", "y4m", "ivf", "mxf":
		return "." + container
	case "matroska":
		return ".mkv"
	case "mpeg-ps":
		return ".mpg"
	case "mpeg-video":
		return ".mpv"
	case "mpeg-ts":
		return ".ts"
	case "ogg":
		return ".ogv"
	case "asf":
		return ".asf"
	}
	return ""
}

// sweepBlobs removes the uploads and evidence of analyses, the uploads of
// verifications, and the files of generator jobs, that no longer exist: left by a crash between a job's
// deletion and its files', or by a node that died between storing an
// upload and queueing its job. Only blobs older than Options.OrphanAge are
// considered.
func (s *Server) sweepBlobs(ctx context.Context) error {
	cutoff := time.Now().Add(-s.opts.OrphanAge)
	gone := map[string]bool{} // by job id: no such job
	orphan := func(id string) (bool, error) {
		if g, ok := gone[id]; ok {
			return g, nil
		}
		_, err := s.store.Job(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("sweeping orphan files: %w", err)
		}
		gone[id] = err != nil
		return gone[id], nil
	}
	for _, prefix := range []string{"uploads/", "evidence/", "generator/"} {
		objs, err := s.blobs.List(ctx, prefix)
		if err != nil {
			return fmt.Errorf("sweeping orphan files: %w", err)
		}
		swept := map[string]bool{}
		for _, o := range objs {
			// uploads/<id>.<ext>, evidence/<id>/<name> or generator/<id>/<path>
			id, _, nested := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
			if !nested {
				id = strings.TrimSuffix(id, path.Ext(id))
			}
			valid := jobIDPattern.MatchString(id) || prefix == "uploads/" && verifyIDPattern.MatchString(id)
			if prefix == "generator/" {
				valid = nested && generatorIDPattern.MatchString(id)
			}
			if !valid || o.ModTime.After(cutoff) || swept[id] {
				continue
			}
			if g, err := orphan(id); err != nil {
				return err
			} else if !g {
				continue
			}
			s.log.Info("removing files of a deleted job", "blob", o.Key)
			if nested {
				swept[id] = true
				_, err = s.blobs.DeleteAll(ctx, prefix+id+"/")
			} else {
				err = s.blobs.Delete(ctx, o.Key)
			}
			if err != nil && !errors.Is(err, blobs.ErrNotFound) {
				return fmt.Errorf("sweeping orphan files: %w", err)
			}
		}
	}
	return nil
}
