"""tocsin's sensor-traffic simulator: seeded scenarios with ground-truth labels."""
