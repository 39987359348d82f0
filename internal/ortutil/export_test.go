package ortutil

// PReluToConv exposes the rewrite to the external tests.
var PReluToConv = preluToConv
