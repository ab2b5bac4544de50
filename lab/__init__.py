"""What the CLIs and the app share: paths, checkpoints of either kind, face data, the sampling pipeline and
the registry of loaded models and detectors."""
