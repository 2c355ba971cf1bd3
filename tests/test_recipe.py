"""`mllint recipe`: one test per card field on the fixtures under fixtures/recipe/, the expected cards, the diff
(paths, git revisions, entry points, configs) and the command line."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mllint.recipe.card import RecipeError, analyse, build, pick_entries
from mllint.recipe.cli import recipe
from mllint.recipe import render

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "recipe"
CASES = {"classifier": ["--config", "fixtures/recipe/classifier/configs/long.yaml"], "configurator": [],
         "trainers": [], "hydra": [], "mnist_like": [], "nanogpt_like": [], "mixup_sgd": []}


def card(case: str, entry: str | None = None, config: str | None = None):
    path = FIXTURES / case
    project = analyse(str(path), entry=entry)
    chosen = pick_entries(project, str(path), entry)
    assert len(chosen) == 1, chosen
    return build(project, chosen[0], str(path / config) if config else None)


def row(card_, section: str, label: str):
    found = [r for r in card_.section(section) if r.label == label]
    assert found, f"no {label!r} in {section}: {[r.label for r in card_.section(section)]}"
    return found[0]


@pytest.fixture(scope="module")
def classifier():
    return card("classifier")


@pytest.fixture(scope="module")
def classifier_long():
    return card("classifier", config="configs/long.yaml")


@pytest.mark.parametrize("case", sorted(CASES))
def test_expected_cards(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(recipe, [f"fixtures/recipe/{case}", *CASES[case]])
    assert result.exit_code == 0, result.output
    assert result.output == (FIXTURES / case / "expected.md").read_text(encoding="utf-8")


def test_model(classifier):
    assert row(classifier, "model", "constructor").value.startswith("timm.create_model(")
    arch = row(classifier, "model", "architecture")
    assert (arch.value, arch.origin, arch.where) == ("'resnet50'", "fixed in code", "train.py:55")


def test_optimiser_and_option_defaults(classifier):
    assert row(classifier, "optimizer", "SGD").where == "train.py:58"
    lr = row(classifier, "optimizer", "SGD learning rate")
    assert (lr.value, lr.origin) == ("0.1", "option --lr (default)")
    assert row(classifier, "optimizer", "SGD dampening").origin == "library default"


def test_config_file_overrides_option_defaults(classifier_long):
    lr = row(classifier_long, "optimizer", "SGD learning rate")
    assert (lr.value, lr.origin) == ("0.4", "config long.yaml (option --lr, default 0.1)")
    assert row(classifier_long, "regularisation", "CrossEntropyLoss label smoothing").value == "0.2"
    assert row(classifier_long, "optimizer", "SGD momentum").value == "0.9"  # not in the YAML


def test_schedule_and_warmup(classifier):
    assert row(classifier, "schedule", "CosineAnnealingLR").where == "train.py:61"
    assert row(classifier, "schedule", "LinearLR start factor").value == "0.01"
    warmup = row(classifier, "warmup", "LinearLR length")
    assert (warmup.value, warmup.origin) == ("5", "option --warmup-epochs (default)")


def test_epochs(classifier):
    epochs = row(classifier, "length", "epochs (loop bound)")
    assert (epochs.value, epochs.where) == ("100", "train.py:66")


def test_batch_accumulation_and_effective_batch(classifier_long):
    assert row(classifier_long, "batch", "batch size (DataLoader)").value == "512"
    assert row(classifier_long, "batch", "validation batch size (DataLoader)").value == "256"
    assert row(classifier_long, "batch", "gradient accumulation (--accum-steps)").value == "2"
    assert row(classifier_long, "batch", "effective batch (per process)").value == "1024"


def test_augmentations(classifier):
    labels = {r.label: r for r in classifier.section("augmentation")}
    assert {"RandAugment", "random erasing", "random resized crop", "MixUp", "CutMix"} <= set(labels)
    assert labels["MixUp mixup alpha"].value == "0.2"
    assert labels["CutMix cutmix alpha"].value == "1.0"


def test_regularisers(classifier):
    assert row(classifier, "regularisation", "SGD weight decay").value == "5e-5"
    assert row(classifier, "regularisation", "CrossEntropyLoss label smoothing").value == "0.1"
    assert row(classifier, "regularisation", "dropout (Dropout)").value == "0.5"
    assert row(classifier, "regularisation", "drop-path (stochastic depth) (create_model)").value == "0.05"


def test_ema(classifier):
    assert row(classifier, "ema", "averaged model (EMA/SWA)").where == "train.py:57"
    assert row(classifier, "ema", "get_ema_multi_avg_fn EMA decay").value == "0.9998"


def test_precision(classifier):
    assert row(classifier, "precision", "mixed precision (autocast)").value == "torch.bfloat16"
    assert row(classifier, "precision", "gradient scaler").where == "train.py:65"


def test_clipping(classifier):
    clip = row(classifier, "clipping", "clip_grad_norm_ maximum gradient norm")
    assert (clip.value, clip.origin) == ("1.0", "fixed in code")


def test_seeds(classifier):
    assert {r.label for r in classifier.section("seed")} == {"torch.manual_seed", "random.seed", "numpy.random.seed"}
    assert row(classifier, "seed", "torch.manual_seed").value == "0"


def test_data_splits_and_their_use(classifier):
    labels = [r.label for r in classifier.section("data")]
    assert "train split (train_loader): iterated in main()" in labels
    assert "test split (test_loader): passed to evaluate()" in labels


def test_evaluation(classifier):
    assert row(classifier, "evaluation", "evaluation function").value == "evaluate()"
    assert row(classifier, "evaluation", "metric").where == "train.py:37"


def test_configurator_globals_python_config_and_helpers():
    plain = card("configurator")
    lr = row(plain, "optimizer", "learning rate")
    assert (lr.value, lr.origin) == ("6e-4", "global, overridable by the configurator")
    assert row(plain, "optimizer", "AdamW").where == "model.py:18"  # configure_optimizers() in the imported module
    lr = row(plain, "optimizer", "AdamW learning rate")  # its parameter, given the global by the entry's call
    assert (lr.value, lr.origin, lr.where) == ("6e-4", "global, overridable by the configurator", "model.py:18")
    betas = row(plain, "optimizer", "AdamW betas")  # `(beta1, beta2)` passed to configure_optimizers(), resolved
    assert (betas.value, betas.origin) == ("(0.9, 0.95)", "globals beta1, beta2, overridable by the configurator")
    assert row(plain, "batch", "tokens per step (per process)").value == "32768"
    small = card("configurator", config="config/small.py")
    assert row(small, "batch", "gradient accumulation").value == "4"  # `2 * 2`
    assert row(small, "batch", "effective batch (per process)").value == "64"
    assert row(small, "batch", "samples seen (per process)").value == "128000"
    assert row(small, "regularisation", "dropout").origin.startswith("config small.py (global dropout")


def test_lightning_trainer_and_hparams_default():
    lit = card("trainers", entry="lit_train.py")
    assert row(lit, "length", "epochs (Trainer)").value == "50"
    assert row(lit, "precision", "mixed precision (Trainer)").value == "'bf16-mixed'"
    assert row(lit, "clipping", "gradient clipping (Trainer)").value == "0.5"
    assert row(lit, "batch", "gradient accumulation (Trainer)").value == "4"
    assert row(lit, "seed", "lightning.seed_everything").value == "7"
    lr = row(lit, "optimizer", "AdamW learning rate")
    assert (lr.value, lr.origin) == ("3e-4", "fixed in code (default of Classifier(lr=…))")


def test_hf_training_arguments():
    hf = card("trainers", entry="hf_train.py")
    assert row(hf, "optimizer", "learning rate").value == "2e-5"
    assert row(hf, "warmup", "warm-up fraction").value == "0.1"
    assert row(hf, "batch", "effective batch (per process)").value == "64"
    assert row(hf, "precision", "mixed precision (TrainingArguments)").value == "True"
    assert row(hf, "clipping", "maximum gradient norm").origin == "library default"


def test_hydra_defaults_list():
    hydra = card("hydra")
    assert hydra.config == "conf/config.yaml + conf/optim/adamw.yaml"
    lr = row(hydra, "optimizer", "AdamW learning rate")
    assert (lr.value, lr.origin) == ("0.001", "config conf/optim/adamw.yaml (optim.lr)")
    assert row(hydra, "length", "epochs (loop bound)").value == "40"


def test_several_entry_points_give_several_cards():
    project = analyse(str(FIXTURES / "trainers"))
    assert pick_entries(project, str(FIXTURES / "trainers"), None) == ["hf_train.py", "lit_train.py"]
    with pytest.raises(RecipeError):
        pick_entries(project, str(FIXTURES / "trainers"), "missing.py")


def test_json_format(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(recipe, ["fixtures/recipe/trainers", "--entry", "hf_train.py", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["cards"][0]["entry"] == "hf_train.py"
    assert data["cards"][0]["sections"]["seed"][0]["value"] == "13"


# --- the diff ---------------------------------------------------------------------------------------


def _diff(*args: str) -> dict:
    result = CliRunner().invoke(recipe, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _changed(data: dict) -> dict[str, tuple[str, str]]:
    return {c["field"]: (c["a"], c["b"]) for c in data["changed"]}


def test_diff_of_two_paths(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(FIXTURES / "classifier", a)
    shutil.copytree(FIXTURES / "classifier", b)
    script = b / "train.py"
    script.write_text(script.read_text().replace("default=0.1, help", "default=0.2, help")
                      .replace('"resnet50"', '"resnet101"'), encoding="utf-8")
    data = _diff(str(a), "--diff", str(a / "train.py"), str(b / "train.py"))
    assert _changed(data) == {"SGD learning rate": ("0.1", "0.2")}
    assert {m["field"] for m in data["model"]} == {"constructor", "architecture"}  # shown apart from the rest
    assert data["unchanged"]


def test_diff_of_two_git_revisions(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "configurator", repo)

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                       capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "one")
    script = repo / "train.py"
    script.write_text(script.read_text().replace("warmup_iters = 200", "warmup_iters = 1000"), encoding="utf-8")
    git("commit", "-qam", "two")
    script.write_text(script.read_text().replace("grad_clip = 1.0", "grad_clip = 0.0"), encoding="utf-8")  # not committed
    before = script.read_text()
    data = _diff(str(repo), "--entry", "train.py", "--diff", "HEAD~1", "HEAD")
    assert _changed(data) == {"warm-up": ("200", "1000")}
    assert script.read_text() == before  # the work tree is untouched
    assert _changed(_diff(str(repo), "--entry", "train.py", "--diff", "HEAD", str(repo))) == {
        "gradient clipping": ("1.0", "0.0"), "clip_grad_norm_ maximum gradient norm": ("1.0", "0.0")}


def test_diff_of_two_entry_points():
    data = _diff(str(FIXTURES / "trainers"), "--diff", "lit_train.py", "hf_train.py")
    changed = _changed(data)
    assert changed["seed (TrainingArguments)"] == ("—", "13")
    assert changed["lightning.seed_everything"] == ("7", "—")


def test_diff_of_two_configs():
    data = _diff(str(FIXTURES / "configurator"), "--entry", "train.py", "--diff", "train.py", "config/small.py")
    changed = _changed(data)
    assert changed["learning rate"] == ("6e-4", "0.001")
    assert changed["batch size"] == ("32", "16")


def test_diff_markdown_folds_unchanged_fields():
    result = CliRunner().invoke(recipe, [str(FIXTURES / "configurator"), "--entry", "train.py", "--diff", "train.py",
                                         "config/small.py"])
    assert result.exit_code == 0, result.output
    assert "| Batch size and accumulation | batch size | `32` | `16` |" in result.output
    assert "<details><summary>" in result.output


# --- the command line -------------------------------------------------------------------------------


def test_usage_errors_are_messages_not_tracebacks(tmp_path):
    runner = CliRunner()
    result = runner.invoke(recipe, [str(FIXTURES / "trainers"), "--entry", "missing.py"])
    assert result.exit_code == 2 and "mllint: error: no Python file 'missing.py'" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("lr: [1, 2\n", encoding="utf-8")
    result = runner.invoke(recipe, [str(FIXTURES / "classifier"), "--config", str(bad)])
    assert result.exit_code == 2 and "not valid YAML" in result.output
    result = runner.invoke(recipe, [str(FIXTURES / "trainers"), "--diff", "nothing-here", "hf_train.py"])
    assert result.exit_code == 2 and "neither a path" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "util.py").write_text("x = 1\n", encoding="utf-8")
    result = runner.invoke(recipe, [str(empty)])
    assert result.exit_code == 2 and "no training entry point" in result.output


def test_through_the_main_command_group(monkeypatch):
    from mllint.cli import cli

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["recipe", "fixtures/recipe/hydra"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Recipe: `train.py` with `conf/config.yaml + conf/optim/adamw.yaml`")


def test_importing_the_command_is_light():
    code = "import sys, mllint.recipe.cli; print(sorted(m for m in ('libcst', 'yaml', 'mllint.engine') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_markdown_lists_missing_sections():
    text = render.markdown([card("hydra")])
    assert "## EMA / SWA\n\n_not found_" in text


def test_click_options_and_json_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "train.py").write_text(
        "import click\nimport torch\n\n\n@click.command()\n@click.option('--lr', default=0.05)\n"
        "@click.option('--epochs', default=12)\n@click.option('--config', default='')\ndef main(lr, epochs, config):\n"
        "    model = torch.nn.Linear(2, 2)\n    opt = torch.optim.Adam(model.parameters(), lr=lr)\n"
        "    for epoch in range(epochs):\n        model(torch.ones(2)).sum().backward()\n        opt.step()\n\n\n"
        "if __name__ == '__main__':\n    main()\n", encoding="utf-8")
    (tmp_path / "run.json").write_text('{"lr": 0.2, "optim": {"betas": [0.8, 0.9]}}', encoding="utf-8")
    project = analyse(str(tmp_path))
    plain = build(project, "train.py")
    lr = row(plain, "optimizer", "Adam learning rate")
    assert (lr.value, lr.origin) == ("0.05", "option --lr (default)")
    assert row(plain, "length", "epochs (loop bound)").value == "12"
    configured = build(project, "train.py", str(tmp_path / "run.json"))
    assert row(configured, "optimizer", "Adam learning rate").value == "0.2"
    assert row(configured, "optimizer", "betas (optim.betas)").value == "(0.8, 0.9)"  # a key no option reads


def test_a_file_that_does_not_parse_is_a_note(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "train.py").write_text("import torch\nif __name__ == '__main__':\n    x = (\n", encoding="utf-8")
    result = CliRunner().invoke(recipe, [str(tmp_path / "train.py")])
    assert result.exit_code == 0, result.output
    assert "- train.py: FILE002 syntax error" in result.output


def test_a_split_whose_result_picks_the_checkpoint_selects_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "train.py").write_text(
        "import torch\nfrom torchvision import datasets\n\n\ndef validate(loader, model):\n    return 0.5\n\n\n"
        "def main():\n    model = torch.nn.Linear(2, 2)\n    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "    val_set = datasets.MNIST('d', train=False)\n    val_loader = torch.utils.data.DataLoader(val_set)\n"
        "    best = 0\n    for epoch in range(3):\n        model(torch.ones(2)).sum().backward()\n        opt.step()\n"
        "        metrics = validate(val_loader, model)\n        score = metrics * 100\n"
        "        if score > best:\n            best = score\n            torch.save(model.state_dict(), 'best.pt')\n\n\n"
        "if __name__ == '__main__':\n    main()\n", encoding="utf-8")
    labels = [r.label for r in build(analyse(str(tmp_path)), "train.py").section("data")]
    assert "test split (val_loader): passed to validate(), selects the checkpoint (its result is compared with the " \
           "best so far)" in labels
    assert not any("selects" in r.label for r in card("classifier").section("data"))  # evaluated once, at the end


def test_cache_dir_gives_the_same_card(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = ["fixtures/recipe/configurator", "--cache-dir", str(tmp_path / "cache")]
    first = CliRunner().invoke(recipe, args)
    assert first.exit_code == 0, first.output
    assert any((tmp_path / "cache").iterdir())
    second = CliRunner().invoke(recipe, args)
    assert second.output == first.output == (FIXTURES / "configurator" / "expected.md").read_text(encoding="utf-8")


# -- what a new user missed on the classic examples (issue 24) ------------------------------------------


def test_model_and_loss_inside_the_entry_scripts_functions():
    mnist = card("mnist_like")
    assert row(mnist, "model", "constructor").value == "Net()"  # `model = Net().to(device)` in main()
    assert row(mnist, "loss", "nll_loss (in train())").where == "main.py:28"  # `F.nll_loss` called in train()
    assert row(mnist, "loss", "nll_loss (in test())").where == "main.py:38"


def test_schedule_shape_computed_by_a_get_lr_function():
    shape = row(card("nanogpt_like"), "schedule", "shape (get_lr())")
    assert (shape.value, shape.where) == ("linear warm-up, then cosine decay", "train.py:43")


@pytest.mark.parametrize("body, expected", [
    ("if it < warmup:\n        return lr * it / warmup\n    return lr * 0.5 * (1 + math.cos(math.pi * it / total))",
     "linear warm-up, then cosine decay"),
    ("return lr * (0.1 ** (epoch // 30))", "step decay"),
    ("return lr * gamma ** epoch", "exponential decay"),
    ("return lr * (1 - it / total) ** 0.9", "polynomial decay"),
    ("return lr * (1 - it / total)", "linear decay"),
    ("return lr * min(it ** -0.5, it * warmup ** -1.5)", "inverse square root"),
    ("return lr", ""),
])
def test_schedule_shapes(body, expected):
    import libcst as cst

    from mllint.recipe.schedule_shape import shape

    function = cst.parse_module(f"def get_lr(it, epoch):\n    {body}\n").body[0]
    assert shape(function) == expected


def test_values_passed_through_variables_are_resolved():
    betas = row(card("nanogpt_like"), "optimizer", "AdamW betas")  # `betas=(beta1, beta2)` through configure_optimizers
    assert (betas.value, betas.origin) == ("(0.9, 0.95)", "globals beta1, beta2, overridable by the configurator")
    mixup = row(card("mixup_sgd"), "augmentation", "mixup alpha (np.random.beta in mixup_data())")
    assert (mixup.value, mixup.origin) == ("1.0", "option --alpha (default)")  # `mixup_data(x, y, args.alpha)`


def test_weight_decay_nesterov_and_mixup_alpha_wherever_set():
    sgd = card("mixup_sgd")
    assert row(sgd, "optimizer", "Nesterov momentum (SGD)").value == "True"
    assert row(sgd, "regularisation", "SGD weight decay").value == "1e-4"
    groups = [r.value for r in card("nanogpt_like").section("regularisation") if r.label == "weight decay (parameter group)"]
    assert groups == ["0.1", "0.0"]  # decayed and not-decayed parameter groups


def test_effective_batch_under_ddp_as_the_script_computes_it():
    nano = card("nanogpt_like")  # `gradient_accumulation_steps //= ddp_world_size`: the global batch does not grow
    effective = row(nano, "batch", "effective batch (global)")
    assert effective.value == "480" and "stays the same" in effective.origin
    assert row(nano, "batch", "tokens per step (global)").value == "245760"
    plain = row(card("mnist_like"), "batch", "effective batch (per process)")
    assert "× the number of processes under DDP" in plain.origin


def test_init_from_is_not_the_architecture():
    nano = card("nanogpt_like")
    assert "architecture" not in [r.label for r in nano.section("model")]
    assert row(nano, "model", "weights initialised from").value == "'scratch'"


def test_numbers_have_one_spelling():
    from mllint.core.origins import show

    assert [show(v) for v in (6e-4, 6e-05, 1e-06, 2.5e-4, 5e-05, 0.1, 1e20)] == \
        ["6e-4", "6e-5", "1e-6", "2.5e-4", "5e-5", "0.1", "1e20"]
    text = "".join((FIXTURES / case / "expected.md").read_text(encoding="utf-8") for case in CASES)
    import re

    assert not re.search(r"\de[-+]0\d", text)  # no `6e-05` beside `6e-4`


def test_values_passed_through_variables_take_a_configs_value(tmp_path):
    config = tmp_path / "override.py"
    config.write_text("beta2 = 0.99\n")
    betas = row(card("configurator", config=str(config)), "optimizer", "AdamW betas")
    assert (betas.value, betas.origin) == ("(0.9, 0.99)", "config override.py (beta1, beta2)")


def test_config_object_values_from_the_config_model(tmp_path):
    """`cfg.SOLVER.BASE_LR` read where yacs defaults (another module) set it: the card shows the value and its line."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "__init__.py").write_text("")
    (tmp_path / "config" / "defaults.py").write_text(
        "from yacs.config import CfgNode as CN\n_C = CN()\n_C.SOLVER = CN()\n_C.SOLVER.BASE_LR = 0.02\n"
        "_C.SOLVER.MOMENTUM = 0.9\n\n\ndef get_cfg_defaults():\n    return _C.clone()\n")
    (tmp_path / "train.py").write_text(
        "import torch\nfrom config.defaults import get_cfg_defaults\n\n\ndef main():\n    cfg = get_cfg_defaults()\n"
        "    model = torch.nn.Linear(2, 2)\n"
        "    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.SOLVER.BASE_LR, momentum=cfg.SOLVER.MOMENTUM)\n"
        "    for x in []:\n        model(x).sum().backward()\n        optimizer.step()\n\n\n"
        "if __name__ == '__main__':\n    main()\n")
    project = analyse(str(tmp_path), entry="train.py")
    built = build(project, "train.py")
    lr = [r for r in built.section("optimizer") if "learning rate" in r.label]
    assert lr and (lr[0].value, lr[0].origin) == ("0.02", "config SOLVER.BASE_LR (config/defaults.py:4)"), built.rows
