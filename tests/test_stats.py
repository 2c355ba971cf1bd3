"""`mllint stats A B`: the figures against scipy, the readers (CSV, JSON, JSON lines, probe reports, folders,
TensorBoard event folders), the verdict in words, the formats and the errors."""
from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mllint.compare import readers
from mllint.compare.cli import stats
from mllint.compare.welch import compare, detectable, guess_direction, seeds_needed, welch_df

try:  # the figures are checked against scipy (the test extra); the readers and the command need none
    from scipy import stats as scipy_stats
except ImportError:
    scipy_stats = None
needs_scipy = pytest.mark.skipif(scipy_stats is None, reason="scipy is not installed (the test extra)")

CASES = [  # (A, B): equal and unequal n, equal and unequal spread, near and far apart
    ([91.2, 90.8, 91.5], [91.6, 91.0, 91.9]),
    ([0.31, 0.33, 0.30, 0.35, 0.29], [0.27, 0.28, 0.26]),
    ([10.0, 12.5, 11.0, 9.5], [20.0, 21.0, 19.5, 22.0, 20.5, 18.0, 21.5]),
    ([1.0, 1.0001], [1.0, 1.2, 0.8]),
]


def invoke(*args: str):
    return CliRunner().invoke(stats, list(args), catch_exceptions=False)


def write_csv(path: Path, header: str, rows: list) -> Path:
    path.write_text(header + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows))
    return path


@needs_scipy
@pytest.mark.parametrize("a,b", CASES)
def test_figures_match_scipy(a, b):
    c = compare("m", a, b)
    welch = scipy_stats.ttest_ind(a, b, equal_var=False)
    low, high = welch.confidence_interval(0.95)
    assert c.t == pytest.approx(welch.statistic, rel=1e-9)
    assert c.df == pytest.approx(welch.df, rel=1e-9)
    assert c.p == pytest.approx(welch.pvalue, rel=1e-6, abs=1e-12)
    assert (c.low, c.high) == (pytest.approx(low, rel=1e-7), pytest.approx(high, rel=1e-7))
    for side, values in ((c.a, a), (c.b, b)):
        interval = scipy_stats.t.interval(0.95, len(values) - 1, loc=scipy_stats.tmean(values),
                                          scale=scipy_stats.sem(values))
        assert (side.low, side.high) == (pytest.approx(interval[0], rel=1e-7), pytest.approx(interval[1], rel=1e-7))
        assert side.std == pytest.approx(scipy_stats.tstd(values), rel=1e-12)
    expected = (scipy_stats.t.ppf(0.975, welch.df) + scipy_stats.t.ppf(0.8, welch.df)) * c.se
    assert c.detectable == pytest.approx(expected, rel=1e-6)
    # the t approximation's power at that difference, by the noncentral t: close to 80 % (a little under for few df)
    critical, shift = scipy_stats.t.ppf(0.975, welch.df), c.detectable / c.se
    power = scipy_stats.nct.sf(critical, welch.df, shift) + scipy_stats.nct.cdf(-critical, welch.df, shift)
    assert 0.75 < power < 0.81


@needs_scipy
def test_p_value_far_in_the_tail():
    a, b = [1.0, 1.01, 0.99, 1.0], [2.0, 2.01, 1.99, 2.0]
    assert compare("m", a, b).p == pytest.approx(scipy_stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-6)


@needs_scipy
def test_seeds_needed_is_the_smallest_count_that_detects_the_effect():
    def enough(n, sa, sb, effect):
        va, vb = sa ** 2 / n, sb ** 2 / n
        df = welch_df(va, vb, n, n)
        return (scipy_stats.t.ppf(0.975, df) + scipy_stats.t.ppf(0.8, df)) * math.sqrt(va + vb) <= effect

    for sa, sb, effect in ((0.35, 0.46, 0.33), (1.0, 1.0, 0.2), (0.01, 0.3, 0.1), (2.0, 2.0, 10.0)):
        n = seeds_needed(sa, sb, effect)
        assert enough(n, sa, sb, effect) and (n == 2 or not enough(n - 1, sa, sb, effect))
    assert seeds_needed(1.0, 1.0, 0.0) is None and seeds_needed(0.0, 0.0, 1.0) is None
    # two methods, n seeds each, equal spread: the probe's --seeds figure (pooled, df = 2n - 2)
    assert detectable(0.5 * math.sqrt(2 / 5), welch_df(0.05, 0.05, 5, 5)) == pytest.approx(
        (scipy_stats.t.ppf(0.975, 8) + scipy_stats.t.ppf(0.8, 8)) * 0.5 * math.sqrt(2 / 5), rel=1e-6)


@needs_scipy
def test_two_csv_files_match_scipys_welch_test(tmp_path):
    rng = random.Random(4)
    a = [round(rng.gauss(76.0, 0.6), 3) for _ in range(5)]
    b = [round(rng.gauss(77.2, 0.4), 3) for _ in range(4)]
    write_csv(tmp_path / "a.csv", "seed,top1_acc", enumerate(a))
    write_csv(tmp_path / "b.csv", "seed,top1_acc", enumerate(b))
    result = invoke(str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--format", "json")
    assert result.exit_code == 0, result.output
    metric = json.loads(result.output)["metrics"][0]
    welch = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert metric["metric"] == "top1_acc" and metric["a"]["values"] == a and metric["b"]["values"] == b
    assert metric["p_value"] == pytest.approx(welch.pvalue, rel=1e-6)
    assert metric["t"] == pytest.approx(welch.statistic, rel=1e-9)
    assert metric["ci95"] == [pytest.approx(x, rel=1e-7) for x in welch.confidence_interval(0.95)]
    assert metric["direction"] == "higher" and metric["direction_from"] == "name"
    assert metric["better"] == ("B" if welch.pvalue < 0.05 else None)


def test_text_report_and_verdicts(tmp_path):
    write_csv(tmp_path / "a.csv", "seed,accuracy,loss", [(0, 91.2, 0.31), (1, 90.8, 0.33), (2, 91.5, 0.30)])
    write_csv(tmp_path / "b.csv", "seed,accuracy,loss", [(0, 93.6, 0.30), (1, 93.0, 0.29), (2, 93.9, 0.31)])
    result = invoke(str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--labels", "baseline,ours")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "accuracy (higher is better, guessed from the name)" in out
    assert "  baseline  n = 3   mean 91.17 ± 0.351 (std)  95 % interval [90.29, 92.04]" in out
    assert "verdict: ours is better: 2.33 higher (95 % interval 1.38 to 3.28, p = 0.003)" in out
    assert "one seed against one seed: baseline better in 0 of 9 pairs, ours in 9" in out
    assert ("verdict: no detectable difference with 3 seeds each (p = 0.28); "
            "about 16 seeds each would detect 0.0133") in out
    lower = invoke(str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--metric", "accuracy", "--lower-is-better")
    assert "verdict: A is better: 2.33 lower" in lower.output and "(lower is better)" in lower.output


def test_verdicts_without_direction_and_without_noise():
    assert compare("m", [1.0, 1.1, 1.2], [2.0, 2.1, 2.2]).verdict.startswith(
        "B is higher by 1 (95 % interval 0.773 to 1.23, p < 0.001); say which way is better")
    same = compare("loss", [1.0, 1.0], [1.0, 1.0], "lower", "name")
    assert same.p == 1.0 and same.verdict == "no difference: every seed gave the same value on both sides"
    apart = compare("loss", [1.0, 1.0], [2.0, 2.0], "lower", "name")
    assert apart.better == "A" and apart.verdict == "A is better: 1 lower (no seed variation on either side)"
    effect = compare("m", [1.0, 1.2, 0.9], [1.1, 1.0, 1.3], effect=0.05)
    assert effect.effect == 0.05
    assert effect.verdict.endswith(f"about {effect.seeds_needed} seeds each would detect 0.05")


def test_direction_from_the_name():
    assert [guess_direction(n) for n in ("val/top1_acc", "test_loss", "eval/WER", "psnr", "lr", "top1_err")] == [
        "higher", "lower", "lower", "higher", None, None]


def test_markdown_json_and_plot(tmp_path):
    write_csv(tmp_path / "a.csv", "seed,bleu", [(0, 27.1), (1, 27.4), (2, 26.9)])
    write_csv(tmp_path / "b.csv", "seed,bleu", [(0, 27.3), (1, 27.9), (2, 27.6)])
    png = tmp_path / "bleu.png"
    result = invoke(str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--format", "markdown", "--plot", str(png))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "| metric | A | B | A − B | p | detectable | verdict |" in lines
    row = next(line for line in lines if line.startswith("| `bleu` ↑ |"))
    assert row.count("|") == 8 and "no detectable difference with 3 seeds each" in row
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = tmp_path / "report.json"
    written = invoke(str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--format", "json", "--output", str(out))
    assert written.output == ""
    assert json.loads(out.read_text())["metrics"][0]["a"]["n"] == 3


# -- readers -------------------------------------------------------------------------------------------------------

def test_folder_of_training_logs_reduced_per_run(tmp_path):
    for seed, finals in enumerate((0.9, 0.8, 0.85)):
        write_csv(tmp_path / f"seed{seed}.csv", "epoch,train_loss,val_acc",
                  [(1, 2.0, 0.5), (2, 1.0, 0.95 - seed / 100), (3, finals, 0.7)])
    results = readers.read(str(tmp_path))
    assert results.logs and [r.name for r in results.runs] == ["seed0.csv", "seed1.csv", "seed2.csv"]
    assert results.values("train_loss") == [0.9, 0.8, 0.85] and results.values("val_acc") == [0.7, 0.7, 0.7]
    assert readers.read(str(tmp_path), reduce="max").values("val_acc") == pytest.approx([0.95, 0.94, 0.93])
    assert "epoch" not in results.metrics()


def test_one_log_with_several_runs_and_the_long_format(tmp_path):
    write_csv(tmp_path / "log.csv", "seed,step,loss", [(0, 1, 3.0), (0, 2, 2.0), (1, 2, 2.5), (1, 1, 3.5)])
    assert readers.read(str(tmp_path / "log.csv")).values("loss") == [2.0, 2.5]
    write_csv(tmp_path / "long.csv", "run,step,metric,value",
              [("a", 1, "acc", 0.5), ("a", 2, "acc", 0.6), ("a", 2, "loss", 1.0), ("b", 2, "acc", 0.7)])
    long = readers.read(str(tmp_path / "long.csv"))
    assert long.values("acc") == [0.6, 0.7] and long.values("loss") == [1.0]
    write_csv(tmp_path / "pairs.csv", "metric,value", [("acc", 0.5), ("acc", 0.6), ("acc", 0.7)])
    assert readers.read(str(tmp_path / "pairs.csv")).values("acc") == [0.5, 0.6, 0.7]


def test_json_shapes_and_json_lines(tmp_path):
    shapes = {
        "list.json": [0.9, 0.91, 0.92],
        "rows.json": [{"seed": 0, "eval": {"acc": 0.9}}, {"seed": 1, "eval": {"acc": 0.91}}],
        "columns.json": {"acc": [0.9, 0.91], "loss": [0.3, 0.2]},
    }
    for name, data in shapes.items():
        (tmp_path / name).write_text(json.dumps(data))
    assert readers.read(str(tmp_path / "list.json")).values("value") == [0.9, 0.91, 0.92]
    assert readers.read(str(tmp_path / "rows.json")).values("eval/acc") == [0.9, 0.91]
    assert readers.read(str(tmp_path / "columns.json")).values("loss") == [0.3, 0.2]
    runs = tmp_path / "runs"
    runs.mkdir()
    for seed in range(3):
        (runs / f"seed{seed}.json").write_text(json.dumps({"seed": seed, "test": {"acc": 0.8 + seed / 100}}))
    (runs / "notes.txt").write_text("not results")
    assert readers.read(str(runs)).values("test/acc") == pytest.approx([0.8, 0.81, 0.82])
    (tmp_path / "log.jsonl").write_text(
        '{"step": 1, "loss": 2.0}\n{"step": 2, "loss": NaN}\n{"step": 3, "loss": 1.5}\n')
    assert readers.read(str(tmp_path / "log.jsonl")).values("loss") == [1.5]
    (tmp_path / "nan.csv").write_text("seed,acc\n0,0.9\n1,nan\n2,0.8\n")
    nan = readers.read(str(tmp_path / "nan.csv"))
    assert nan.values("acc") == [0.9, 0.8] and nan.notes == ["nan.csv[seed=1]: acc is nan, left out"]


def test_probe_reports_are_read_as_final_training_losses(tmp_path):
    def report(losses):
        return {"command": ["python", "train.py"], "settings": {"steps": 3},
                "runs": [{"seed": i, "status": "steps", "step_losses": [2.0, None, value]}
                         for i, value in enumerate(losses)],
                "seeds": None, "findings": []}

    (tmp_path / "a.json").write_text(json.dumps(report([0.5, 0.6, 0.55])))
    (tmp_path / "b.json").write_text(json.dumps(report([0.4, 0.45, 0.42])))
    result = invoke(str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--format", "json")
    metric = json.loads(result.output)["metrics"][0]
    assert metric["metric"] == "train_loss" and metric["a"]["values"] == [0.5, 0.6, 0.55]
    assert metric["direction"] == "lower" and metric["better"] == "B"


def _event_runs(root: Path, finals: list[float]) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    for seed, final in enumerate(finals):
        writer = SummaryWriter(str(root / f"seed{seed}"))
        for step, value in enumerate((final + 0.5, final + 0.1, final)):
            writer.add_scalar("val/acc", 1 - value, step)
            writer.add_scalar("train/loss", value, step)
        writer.close()
    return root


@needs_scipy
def test_tensorboard_event_folders(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("torch")
    a = _event_runs(tmp_path / "a", [0.30, 0.32, 0.31])
    b = _event_runs(tmp_path / "b", [0.25, 0.24, 0.26])
    results = readers.read(str(a))
    assert [r.name for r in results.runs] == ["seed0", "seed1", "seed2"]
    assert results.values("train/loss") == [pytest.approx(v) for v in (0.30, 0.32, 0.31)]
    assert readers.read(str(a), reduce="max").values("train/loss") == [pytest.approx(v) for v in (0.8, 0.82, 0.81)]
    result = invoke(str(a), str(b), "--metric", "train/loss", "--format", "json")
    metric = json.loads(result.output)["metrics"][0]
    welch = scipy_stats.ttest_ind([0.30, 0.32, 0.31], [0.25, 0.24, 0.26], equal_var=False)
    assert metric["p_value"] == pytest.approx(welch.pvalue, rel=1e-4)  # float32 in the event files
    assert metric["better"] == "B"


def test_without_tensorboard_a_clear_message(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "events.out.tfevents.1.host").write_bytes(b"")
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")] + ["tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed, whatever an earlier test imported
    result = invoke(str(folder), str(folder))
    assert result.exit_code == 2 and "needs tensorboard: pip install tensorboard" in result.output


def test_errors_are_clear(tmp_path):
    write_csv(tmp_path / "a.csv", "seed,accuracy", [(0, 0.9), (1, 0.91)])
    write_csv(tmp_path / "b.csv", "seed,acc", [(0, 0.9), (1, 0.92)])
    write_csv(tmp_path / "one.csv", "seed,accuracy", [(0, 0.9)])
    (tmp_path / "empty").mkdir()
    checks = [
        ((tmp_path / "a.csv", tmp_path / "b.csv"), "have no metric in common"),
        ((tmp_path / "a.csv", tmp_path / "b.csv", "--metric", "acuracy"), "did you mean accuracy"),
        ((tmp_path / "a.csv", tmp_path / "one.csv"), "at least two per side"),
        ((tmp_path / "a.csv", tmp_path / "empty"), "no CSV, JSON or TensorBoard event files"),
        ((tmp_path / "a.csv", tmp_path / "b.csv", "--labels", "x"), "two different names"),
    ]
    for args, message in checks:
        result = invoke(*map(str, args))
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_the_mllint_group_runs_stats(tmp_path):
    write_csv(tmp_path / "a.csv", "seed,loss", [(0, 0.3), (1, 0.31), (2, 0.29)])
    write_csv(tmp_path / "b.csv", "seed,loss", [(0, 0.2), (1, 0.21), (2, 0.19)])
    proc = subprocess.run([sys.executable, "-m", "mllint", "stats", "a.csv", "b.csv"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "verdict: B is better: 0.1 lower" in proc.stdout, proc.stderr
    helped = subprocess.run([sys.executable, "-m", "mllint", "--help"], capture_output=True, text=True)
    assert "stats" in helped.stdout and "Welch" in helped.stdout
