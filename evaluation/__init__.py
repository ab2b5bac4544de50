"""How good are the images: anime-face detectors (AFD), FID, and the classifier two-sample test."""
