// Package video decodes a video file by path into BGR frames with
// timestamps, through OpenCV's FFmpeg backend (gocv).
//
// Open checks the file before OpenCV sees it, then decodes its first frame;
// each step has its error:
//
//	stat        file size over Limits.MaxFileBytes         ErrTooLarge
//	sniff       first bytes are no known container         ErrNotVideo
//	structure   MP4/MOV boxes, AVI stream headers          ErrTruncated, ErrNoVideoStream
//	OpenCV      capture refused                            ErrUnsupportedCodec (or as above)
//	headers     frame size, duration over Limits           ErrTooLarge
//	frame 0     nothing decodes                            ErrTruncated
//
// Next then decodes frame by frame, stopping with ErrTooLarge when the
// counted duration passes Limits.MaxDuration.
//
// The first bytes name the container (MP4/MOV, Matroska/WebM, AVI, MPEG-PS,
// MPEG-TS, MPEG and H.26x elementary streams, FLV, Ogg, ASF, Y4M, IVF, MXF);
// anything else, including images and the empty file, is ErrNotVideo. For
// MP4 and MOV a bounded walker over the box tree tells a cut file
// (ErrTruncated: no moov box) from an audio-only one (ErrNoVideoStream) from
// a video track OpenCV cannot decode (ErrUnsupportedCodec), which OpenCV
// itself reports only as "could not open". AVI stream headers are scanned
// for the same purpose. Other containers that OpenCV refuses get
// ErrUnsupportedCodec with a message saying the cause was not inspected.
//
// Frames are counted, never taken from the container: a cut file keeps the
// frame count of the whole. A file that decodes some frames and then stops
// well short of its stated count, or whose top-level structure runs past
// its end, is reported by Decoder.Truncated and Summary.Truncated rather than
// as an error, so that analysis can go on with the frames there are. A file
// from which no frame decodes is ErrTruncated.
//
// Frame times are the container's presentation times when they are sane and
// increasing, else the previous time plus one frame interval (1/FPS). A
// missing frame rate is replaced by FallbackFPS and flagged in
// Config.FPSGuessed; an absurd one (more than 1000 fps, or not a number),
// stated by the container or shown by the timestamps, is ErrBadFrameRate.
// Decoder.MeasuredFPS gives the rate the timestamps show.
//
// Every error about a file's content is a *DecodeError wrapping one of the
// sentinels, for errors.Is. gocv aborts the process on an OpenCV exception,
// so every Mat is checked before it is used; each Decoder owns one capture
// and one frame Mat, freed by Close.
package video
