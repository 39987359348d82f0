package model

import "math"

// HoldOut sets the last frac of faces apart, to measure how well a decoder
// rebuilds faces it never trained on: a face set lists a clip's frames in
// order, so its end is frames the model has not seen, not neighbours of
// training frames. It keeps at least one face on each side, and holds out
// none from fewer than two.
func HoldOut(faces [][]float32, frac float64) (train, held [][]float32) {
	if len(faces) < 2 || frac <= 0 {
		return faces, nil
	}
	k := int(math.Round(float64(len(faces)) * frac))
	k = max(1, min(k, len(faces)-1))
	return faces[:len(faces)-k], faces[len(faces)-k:]
}

// psnrBatch is how many faces PSNR sends through the model at once.
const psnrBatch = 16

// PSNR returns the mean peak signal-to-noise ratio, in dB with a peak of 1,
// of each face rebuilt by id's decoder; 0 for no faces.
func (m *Model) PSNR(id Identity, faces [][]float32) (float64, error) {
	if len(faces) == 0 {
		return 0, nil
	}
	var sum float64
	for i := 0; i < len(faces); i += psnrBatch {
		batch := faces[i:min(i+psnrBatch, len(faces))]
		rec, err := m.Predict(id, batch)
		if err != nil {
			return 0, err
		}
		for j, f := range batch {
			sum += psnr(f, rec[j])
		}
	}
	return sum / float64(len(faces)), nil
}

// maxPSNR is what psnr gives two identical images: the mean squared error
// is floored so that a perfect face does not make the mean infinite.
const maxPSNR = 100

// psnr is the peak signal-to-noise ratio of got against want (dB, peak 1).
func psnr(want, got []float32) float64 {
	var se float64
	for k, v := range want {
		d := float64(v - got[k])
		se += d * d
	}
	mse := math.Max(se/float64(len(want)), math.Pow(10, -maxPSNR/10))
	return -10 * math.Log10(mse)
}
