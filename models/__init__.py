"""tocsin's online anomaly detectors: River-compatible, one per sensor, score first then learn."""
