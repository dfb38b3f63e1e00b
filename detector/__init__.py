"""tocsin's detector: the Spark Structured Streaming job and the event contract it reads."""
