package isolate

import (
	"errors"
)

// Kind names a kind of isolated work. A worker's parent sends it with each
// request and the child's Mux picks the Func that does it; an *Error says
// which kind of work failed.
type Kind string

// The kinds of isolated work. Each kind's request type belongs to the
// package that does the work, not here, so that this package depends on
// none of them.
const (
	KindScan        Kind = "scan"        // scan.Request: a video analysed by the detectors
	KindFingerprint Kind = "fingerprint" // ledger.FingerprintRequest: a video fingerprinted for the ledger
	KindGenerate    Kind = "generate"    // a generator or training job's command (RunCommand)
)

// ErrUnknownKind is what a child reports when asked for a kind of work its
// Mux does not do: a parent and a child of different versions, or a bug.
var ErrUnknownKind = errors.New("isolate: unknown kind of work")

// The codes this package gives failures itself.
const (
	codeUnknownKind = "unknown_kind"
	codeInternal    = "internal"
)

// Mux maps each kind of work a child does to the Func that does it.
type Mux map[Kind]Func

// Code ties an error code on the wire to the sentinel it stands for.
type Code struct {
	Code string
	Err  error
}

// Codes is a table of the sentinels a child's failures can wrap and their
// codes: the child classifies its failures with it (Of), and the parent's
// *Error unwraps to the sentinel of its code, so that errors.Is(err,
// video.ErrNotVideo) holds across the process boundary. The callers own
// the table, so that this package knows none of their packages.
type Codes []Code

// Of returns the code of the first sentinel in c that err wraps; else the
// code of the *Error err wraps; else "internal".
func (c Codes) Of(err error) string {
	for _, code := range c {
		if errors.Is(err, code.Err) {
			return code.Code
		}
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return codeInternal
}

// Error returns the *Error of a failure of kind kind with code and
// message, unwrapping to code's sentinel in c: what a child reported, or
// what a caller records as if a child had (a stored job's failure).
func (c Codes) Error(kind Kind, code, message string) *Error {
	e := &Error{Kind: kind, Code: code, Message: message}
	if code == codeUnknownKind {
		e.err = ErrUnknownKind
	}
	for _, cc := range c {
		if cc.Code == code {
			e.err = cc.Err
			break
		}
	}
	return e
}
