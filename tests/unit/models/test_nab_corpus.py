"""Reading a NAB-shaped corpus, and the errors that name the file, line or window at fault."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models.nab.corpus import NabCorpusError, load_corpus, profiles_from_json
from models.nab.scorer import CostMatrix

FIXTURE = Path(__file__).parents[2] / "fixtures" / "nab"
SPIKES = "artificialWithAnomaly/art_tiny_spikes.csv"


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """A writable copy of the tiny fixture corpus."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "nab"))


def edit_windows(root: Path, change) -> None:
    """Rewrite labels/combined_windows.json through `change(windows)`."""
    path = root / "labels" / "combined_windows.json"
    windows = json.loads(path.read_text())
    change(windows)
    path.write_text(json.dumps(windows))


def test_the_fixture_corpus_loads_with_windows_as_row_ranges():
    corpus = load_corpus(FIXTURE)
    assert [series.name for series in corpus.series] == [
        "artificialNoAnomaly/art_tiny_flat.csv",
        "artificialWithAnomaly/art_tiny_jumpsup.csv",
        SPIKES,
    ]
    windows = {series.name: series.windows for series in corpus.series}
    assert windows[SPIKES] == ((140, 160), (230, 250))
    assert windows["artificialWithAnomaly/art_tiny_jumpsup.csv"] == ((280, 320),)
    spikes = corpus.series[2]
    assert len(spikes.values) == len(spikes.ts_ms) == 300
    assert spikes.ts_ms[1] - spikes.ts_ms[0] == 300_000
    assert sum(spikes.labels()) == 42
    assert set(corpus.profiles) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    assert corpus.profiles["reward_low_FN_rate"].fn_weight == 2.0


def test_a_repeated_timestamp_is_kept_and_a_window_limit_takes_its_first_record(corpus_dir):
    path = corpus_dir / "data" / SPIKES
    lines = path.read_text().splitlines()
    lines[140] = lines[141].split(",")[0] + ",50.0"  # row 139 gets row 140's time: the window's start
    path.write_text("\n".join(lines) + "\n")
    spikes = load_corpus(corpus_dir).series[2]
    assert spikes.ts_ms[139] == spikes.ts_ms[140]
    assert spikes.windows[0] == (139, 160)


def test_a_bad_value_names_the_file_and_line(corpus_dir):
    path = corpus_dir / "data" / SPIKES
    lines = path.read_text().splitlines()
    lines[4] = lines[4].split(",")[0] + ",n/a"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NabCorpusError, match=r"art_tiny_spikes\.csv: line 5: value 'n/a' is not a finite number"):
        load_corpus(corpus_dir)


def test_a_bad_timestamp_names_the_file_and_line(corpus_dir):
    path = corpus_dir / "data" / SPIKES
    lines = path.read_text().splitlines()
    lines[2] = "yesterday," + lines[2].split(",")[1]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NabCorpusError, match=r"art_tiny_spikes\.csv: line 3: timestamp 'yesterday'"):
        load_corpus(corpus_dir)


def test_a_wrong_header_is_refused(corpus_dir):
    path = corpus_dir / "data" / SPIKES
    path.write_text(path.read_text().replace("timestamp,value", "time,reading", 1))
    with pytest.raises(NabCorpusError, match=r"art_tiny_spikes\.csv: line 1: expected the header"):
        load_corpus(corpus_dir)


def test_a_window_limit_must_be_a_record_timestamp(corpus_dir):
    edit_windows(corpus_dir, lambda w: w[SPIKES].__setitem__(0, ["2014-04-01 11:41:00", "2014-04-01 13:20:00"]))
    with pytest.raises(NabCorpusError, match=r"art_tiny_spikes\.csv: window .*not the timestamp of a record"):
        load_corpus(corpus_dir)


def test_overlapping_windows_are_refused(corpus_dir):
    edit_windows(corpus_dir, lambda w: w[SPIKES].__setitem__(1, ["2014-04-01 12:00:00", "2014-04-01 20:50:00"]))
    with pytest.raises(NabCorpusError, match=r"art_tiny_spikes\.csv: windows overlap"):
        load_corpus(corpus_dir)


def test_every_series_needs_an_entry_in_the_windows_file(corpus_dir):
    edit_windows(corpus_dir, lambda w: w.pop(SPIKES))
    with pytest.raises(NabCorpusError, match=r"combined_windows\.json: no entry for series .*art_tiny_spikes"):
        load_corpus(corpus_dir)


def test_windows_for_a_missing_series_are_refused(corpus_dir):
    edit_windows(corpus_dir, lambda w: w.update({"realGone/gone.csv": []}))
    with pytest.raises(NabCorpusError, match=r"windows for series not in .*: realGone/gone\.csv"):
        load_corpus(corpus_dir)


def test_missing_profiles_and_missing_data_are_named(corpus_dir, tmp_path):
    (corpus_dir / "labels" / "profiles.json").unlink()
    with pytest.raises(NabCorpusError, match=r"profiles\.json: missing"):
        load_corpus(corpus_dir)
    with pytest.raises(NabCorpusError, match="no data/<category>/<file>.csv series found"):
        load_corpus(tmp_path / "empty")


def test_invalid_json_names_the_file_and_line(corpus_dir):
    (corpus_dir / "labels" / "combined_windows.json").write_text('{\n  "a": [,]\n}')
    with pytest.raises(NabCorpusError, match=r"combined_windows\.json: invalid JSON at line 2"):
        load_corpus(corpus_dir)


def test_profiles_are_read_from_nab_profiles_json():
    doc = {"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}}}
    assert profiles_from_json(doc) == {"standard": CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({}, "non-empty object"),
        ({"standard": {}}, "profile 'standard' has no CostMatrix"),
        ({"standard": {"CostMatrix": {"tpWeight": 1, "fnWeight": 1}}}, r"standard\.CostMatrix\.fpWeight"),
        ({"x": {"CostMatrix": {"tpWeight": 1, "fnWeight": "1", "fpWeight": 0.1}}}, r"x\.CostMatrix\.fnWeight"),
    ],
)
def test_bad_profiles_name_the_profile_and_field(doc, message):
    with pytest.raises(ValueError, match=message):
        profiles_from_json(doc, source="labels/profiles.json")
