package video

/*
#cgo pkg-config: libavutil
#include <libavutil/cpu.h>
*/
import "C"

import "sync"

// portable is done once per process: FFmpeg's own CPU detection is
// process-wide state of libavutil, shared with OpenCV's FFmpeg backend.
var portable sync.Once

// usePortableCode makes FFmpeg, for the rest of the process, run its plain
// C code instead of the SIMD code it picks for the CPU at hand. The SIMD
// colour conversion from the decoder's YUV to OpenCV's BGR rounds
// differently on different CPUs (measured: one GRID clip's first frames
// convert to three different BGR images with the default, the bit-exact
// and the C paths of one machine), and the face models amplify ±1 grey
// levels into different scores: the same file got a different face_cnn
// score, and once a different verdict, on another machine. The C code gives
// every CPU the same pixels, at a decoding cost the analysis dwarfs.
func usePortableCode() {
	portable.Do(func() { C.av_force_cpu_flags(0) })
}
