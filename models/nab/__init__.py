"""The Numenta Anomaly Benchmark for tocsin detectors: NAB's scoring rules, an online runner, a report.

`evaluate_nab` runs one registered detector over a NAB corpus through `models.SensorModel` (the code
path of the streaming job) and scores it with `score_corpus`; `models.nab.report` draws it and
`models.nab.cli` is the `tocsin evaluate nab` command.
"""

from models.nab.corpus import NabCorpusError, load_corpus
from models.nab.runner import NabResult, evaluate_nab
from models.nab.scorer import score_corpus

__all__ = ["NabCorpusError", "NabResult", "evaluate_nab", "load_corpus", "score_corpus"]
