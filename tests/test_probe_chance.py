"""Seed statistics on synthetic data and a loss at chance level (issue 24): the caveat and the warning, as unit
functions and in the probe's text and JSON reports. No torch, no subprocess."""
from __future__ import annotations

import json
import math

import pytest

from mllint.probe import chance, stats
from mllint.probe.report import ProbeReport, render_json, summary_text
from mllint.probe.runner import Outcome, Spec


def test_chance_level_is_ln_of_the_number_of_classes():
    assert chance.chance_loss(10) == pytest.approx(2.302585, abs=1e-6)
    note = chance.chance_level_note([2.306, 2.301, 2.309], 10)  # what mnist gave on synthetic data
    assert note is not None and "chance level" in note and "ln 10 = 2.303" in note
    assert chance.chance_level_note([0.31, 0.28, 0.35], 10) is None  # learnt something
    assert chance.chance_level_note([4.6], 100) is not None and chance.chance_level_note([2.3], 100) is None
    assert chance.chance_level_note([2.306], None) is None  # classes unknown: no claim
    assert chance.chance_level_note([math.nan], 10) is None and chance.chance_level_note([], 10) is None


def test_classes_of_synthetic_datasets():
    assert chance.classes_of_synthetic(["MNIST(test)", "MNIST(train)"]) == 10
    assert chance.classes_of_synthetic(["CIFAR100(train)"]) == 100
    assert chance.classes_of_synthetic(["CIFAR100(train)", "MNIST(test)"]) is None  # disagree: unknown
    assert chance.classes_of_synthetic([]) is None


def _report(finals: list[float], synthetic_flag: bool, synthetic_names: list[str], seeds: bool = True) -> ProbeReport:
    outcomes = [Outcome(i, "steps", record={"steps": 20, "step_losses": [2.4, final], "synthetic": synthetic_names})
                for i, final in enumerate(finals)]
    spec = Spec("python", ["main.py"], ".", synthetic=synthetic_flag)
    return ProbeReport(spec, ["python", "main.py"], outcomes, [], stats.summarise(finals) if seeds else None)


def test_synthetic_seed_interval_says_what_it_measures_and_warns_at_chance():
    report = _report([2.306, 2.301, 2.309], True, ["MNIST(test)", "MNIST(train)"])
    text = summary_text(report)
    assert "note: synthetic data" in text and "seed noise of the training pipeline" in text
    assert "note: chance level" in text
    assert text.index("seeds: training loss") < text.index("note: synthetic data")
    notes = json.loads(render_json(report))["loss_notes"]
    assert len(notes) == 2 and notes[0].startswith("synthetic data") and notes[1].startswith("chance level")


def test_missing_files_made_the_data_synthetic_too():
    text = summary_text(_report([0.9, 1.1, 1.0], False, ["CIFAR10(train)"]))
    assert "note: synthetic data" in text and "chance level" not in text  # 1.0 is far from ln 10


def test_real_data_that_learnt_gets_no_note():
    report = _report([0.31, 0.28, 0.35], False, [])
    assert "note:" not in summary_text(report) and json.loads(render_json(report))["loss_notes"] == []


def test_a_single_run_at_chance_is_warned_without_the_interval_caveat():
    text = summary_text(_report([2.31], True, ["MNIST(train)"], seeds=False))
    assert "note: chance level" in text and "note: synthetic data" not in text
