// Package blobs keeps the service's files in a blob store: a directory
// (file://) when the service runs on one machine, or a bucket of any
// S3-compatible server (s3://) that every node of a larger deployment
// shares. A worker node reads its input from the store, through a local
// copy, never from another node's disk.
//
// A Store is a gocloud.dev/blob bucket with what the service needs on top:
// uploads streamed and hashed on the way (never whole in memory), readers
// that serve HTTP ranges, atomic copies to local files, whole "directories"
// (key prefixes) stored, listed and deleted, and keys checked so that none
// can climb out of its place. Errors are ErrNotFound or ErrInvalidKey when
// callers can act on them.
//
// Keys are slash-separated paths ("uploads/an_1.mp4"); a prefix names a
// directory and ends with a slash ("evidence/an_1/").
package blobs
