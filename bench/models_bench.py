"""How fast and how small each registered detector is behind SensorModel: µs per process() and pickled bytes.

Usage: .venv/bin/python bench/models_bench.py [--events 10000] [--repeat 3] [--detector NAME ...]
Feeds one seeded noisy sensor (Gaussian, a spike every 1000 readings) through a fresh SensorModel per
detector, best of --repeat runs, then prints the pickled size after --events readings.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import pickle
import random
import time

from models import SensorModel, names

T0 = 1_700_000_000_000


def stream(events: int, seed: int = 0) -> list[float]:
    """A steady noisy sensor with a 20-sigma spike every 1000 readings."""
    rng = random.Random(seed)
    return [rng.gauss(100.0, 5.0) + (100.0 if i % 1000 == 999 else 0.0) for i in range(events)]


def measure(detector: str, values: list[float], repeat: int) -> tuple[float, int]:
    """Best µs per process() call over `repeat` fresh models, and the last model's pickled bytes."""
    best = float("inf")
    model = None
    for _ in range(repeat):
        model = SensorModel(detector=detector)
        process = model.process
        started = time.perf_counter()
        for i, value in enumerate(values):
            process(value, T0 + 1000 * i)
        best = min(best, (time.perf_counter() - started) / len(values) * 1e6)
    return best, len(pickle.dumps(model))


def main() -> None:
    """Print one line per detector."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--detector", action="append", choices=names(), help="default: all registered")
    args = parser.parse_args()
    values = stream(args.events)
    header = f"{'detector':<10} {'µs/process':>11} {'events/s':>10} {'pickled bytes':>14}"
    print(f"{header}   ({args.events} events)")
    for detector in args.detector or names():
        micros, size = measure(detector, values, args.repeat)
        print(f"{detector:<10} {micros:>11.2f} {1e6 / micros:>10,.0f} {size:>14,}")


if __name__ == "__main__":
    main()
