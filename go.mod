module github.com/trueframe/trueframe

go 1.26.8

require (
	github.com/yalue/onnxruntime_go v1.30.0
	gocv.io/x/gocv v0.32.0
	golang.org/x/sync v0.25.0
	golang.org/x/term v0.48.0
)

require golang.org/x/sys v0.50.0 // indirect
