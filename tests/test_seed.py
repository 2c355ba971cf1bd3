"""SEED on project shapes: which runs train, what a sweep runs, where SEED002 points, seeds in configs."""
import json
import subprocess
import sys

import libcst as cst

from mllint.rules.seed.extract import is_training_call
from mllint.rules.seed.sweeps import fixed_seeds, launches, scan_aux

TRAIN = (
    "model = torch.nn.Linear(4, 1)\n"
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "model(torch.randn(8, 4)).sum().backward()\n"
    "optimizer.step()\n"
)


def lint(folder):
    proc = subprocess.run([sys.executable, "-m", "mllint", "--no-cache", "--format", "json", "--select", "SEED", "."],
                          cwd=folder, capture_output=True, text=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_seed002_points_into_the_entry_point_that_defines_the_option(tmp_path):
    option = "import argparse\nimport torch\np = argparse.ArgumentParser()\np.add_argument('--seed', type=int, default={})\n"
    write(tmp_path, {
        "README.md": "x\n",
        "a/train.py": option.format(1) + "args = p.parse_args()\n" + TRAIN + "torch.manual_seed(args.seed)\n",
        "b/train.py": option.format(2) + "args = p.parse_args()\ntorch.manual_seed(args.seed)\n" + TRAIN,
    })
    found = {f["path"]: f for f in lint(tmp_path) if f["code"] == "SEED002"}
    assert set(found) == {"a/train.py", "b/train.py"}
    assert [(r["path"], r["line"]) for r in found["a/train.py"]["related"]] == [("a/train.py", 10)]
    assert [(r["path"], r["line"]) for r in found["b/train.py"]["related"]] == [("b/train.py", 6)]


def test_option_defined_in_a_parser_module_seeds_the_script_that_calls_it(tmp_path):
    write(tmp_path, {
        "opts.py": "import argparse\n\n\ndef parse():\n    p = argparse.ArgumentParser()\n"
                   "    p.add_argument('--seed', type=int, default=3)\n    return p.parse_args()\n",
        "train.py": "import torch\nfrom opts import parse\n\nargs = parse()\ntorch.manual_seed(args.seed)\n" + TRAIN,
        "other/eval.py": "import torch\n\n\ndef run(args):\n    torch.manual_seed(args.seed)\n",
    })
    (finding,) = [f for f in lint(tmp_path) if f["code"] == "SEED002"]
    assert finding["path"] == "opts.py"
    assert [(r["path"], r["line"]) for r in finding["related"]] == [("train.py", 5)]


def test_a_python_loop_excuses_what_it_calls_not_another_entry_point(tmp_path):
    write(tmp_path, {
        "README.md": "x\n",
        "lib.py": "import torch\n\n\ndef run(seed):\n    torch.manual_seed(seed)\n" + "".join("    " + l + "\n" for l in TRAIN.splitlines()),
        "sweep.py": "from lib import run\n\nfor seed in range(3):\n    run(seed)\n",
        "single.py": "import torch\nfrom lib import run\n\ntorch.manual_seed(5)\nrun(5)\n",
    })
    (finding,) = lint(tmp_path)
    assert (finding["path"], finding["line"]) == ("single.py", 4)
    assert [(r["path"], r["line"]) for r in finding["related"]][-1] == ("single.py", 5)  # run(5): one run


def test_an_unresolvable_shell_sweep_covers_its_folder_as_before(tmp_path):
    write(tmp_path, {
        "README.md": "x\n",
        "train.py": "import torch\ntorch.manual_seed(0)\n" + TRAIN,
        "sweep.sh": "for seed in 1 2 3; do sbatch job.slurm $seed; done\n",
    })
    assert lint(tmp_path) == []


def test_a_seed_in_a_function_nothing_calls_is_kept_and_a_render_script_is_not(tmp_path):
    write(tmp_path, {
        "lib.py": "import torch\n\n\ndef setup():\n    torch.manual_seed(1)\n    return torch.nn.Linear(2, 2)\n",
        "render.py": "import numpy as np\nimport matplotlib.pyplot as plt\n\nnp.random.seed(2)\nplt.plot(np.random.rand(5))\n",
    })
    assert [(f["path"], f["line"]) for f in lint(tmp_path)] == [("lib.py", 5)]


def test_training_calls():
    def call(text):
        return cst.parse_expression(text)

    for text in ("loss.backward()", "optimizer.step()", "self.opt_g.step()", "scaler.step(optimizer)",
                 "model.fit(x, y)", "Trainer(model=m, args=a).train()", "trainer.fit(model, dm)", "trainer.train()", "train_one_epoch(model, loader)",
                 "learner.fit_one_cycle(3)", "state.apply_gradients(grads=g)", "model.learn(1000)", "self.accelerator.backward(loss)", "model.optimize_parameters(it)"):
        assert is_training_call(call(text)), text
    for text in ("model.train()", "scheduler.step()", "scaler.fit(x)", "train_transforms()", "env.step(action)",
                 "plt.plot(x)", "model.eval()", "pl.Trainer(max_epochs=1)", "tsne.fit_transform(x)"):
        assert not is_training_call(call(text)), text


def test_config_seeds_and_launches(tmp_path):
    assert fixed_seeds("name: x\nmanual_seed: 10\ntrain:\n  seed: 3  # fixed\n  seeds_offset: 1\n", "yaml") == [
        (2, 1, "manual_seed", 10), (4, 3, "seed", 3)]
    assert fixed_seeds('{"SEED": 0, "lr": 1}', "json") == [(1, 2, "SEED", 0)]
    assert fixed_seeds("random_seed = 7\n", "toml") == [(1, 1, "random_seed", 7)]
    assert launches("for s in 1 2; do python tools/train.py --seed $s; done\npython -m pkg.run\n") == [
        "tools/train.py", "-m pkg.run"]
    (tmp_path / "sweep.yaml").write_text("seeds: [0, 1]\nseed: 0\n")
    facts = scan_aux(str(tmp_path / "sweep.yaml"), "sweep.yaml")
    assert facts.sweeps and not facts.seeds  # a config that lists seeds is not a fixed seed
    (tmp_path / ".pre-commit-config.yaml").write_text("seed: 1\n")
    assert not scan_aux(str(tmp_path / ".pre-commit-config.yaml"), ".pre-commit-config.yaml")


def test_a_python_loop_that_launches_a_script_per_seed_excuses_it_if_it_takes_the_seed(tmp_path):
    option = "import argparse\nimport torch\np = argparse.ArgumentParser()\np.add_argument('--seed', type=int, default=0)\n"
    write(tmp_path, {
        "train.py": option + "args = p.parse_args()\ntorch.manual_seed(args.seed)\n" + TRAIN,
        "fixed.py": "import torch\ntorch.manual_seed(42)\n" + TRAIN,
        "sweep.py": "import os\nimport subprocess\n\nfor seed in range(3):\n"
                    "    subprocess.run(['python', 'train.py', '--seed', str(seed)])\n"
                    "    os.system(f'python fixed.py --seed {seed}')\n",
    })
    assert [(f["path"], f["code"]) for f in lint(tmp_path)] == [("fixed.py", "SEED001")]


def test_a_seed_fixed_in_configs_is_one_finding_per_folder_and_per_file_ignores_apply(tmp_path):
    write(tmp_path, {
        "configs/a.yaml": "manual_seed: 3\nlr: 0.1\n",
        "configs/b.yaml": "manual_seed: 3\nlr: 0.2\n",
        "configs/c.json": '{"seed": 5}',
        "train.py": "import sys\nimport torch\nimport yaml\n\nopt = yaml.safe_load(open(sys.argv[1]))\n"
                    "torch.manual_seed(opt['manual_seed'])\n" + TRAIN,
    })
    found = lint(tmp_path)
    assert [(f["path"], f["line"], f["column"]) for f in found] == [("configs/a.yaml", 1, 1)]  # `seed` is not read
    assert [(r["path"], r["line"]) for r in found[0]["related"]] == [("configs/b.yaml", 1)]
    (tmp_path / "mllint.toml").write_text('[per-file-ignores]\n"configs/*.yaml" = ["SEED001"]\n')
    assert lint(tmp_path) == []


def test_prose_sweeps_in_readme_and_result_tables():
    from mllint.rules.seed.project import prose_sweeps

    for text in ("Test error (%, mean of 5 runs)", "accuracy averaged over 3 seeds", "mean ± std over 5 seeds",
                 "median of 3 runs", "results of 5 runs averaged",
                 "we run 4 trials with different random seeds and report mean and std",
                 "| ResNet-50 | 76.3 ± 0.2 (std over 5 seeds) |",
                 "Range of random seeds used for the five replicates is 2-5 and 123.", "each run was repeated 3 times",
                 "we use seeds 0, 1 and 2", "seeds: [1, 2, 3]"):
        assert prose_sweeps(text) == [1], text
    for text in ("we report the best of 3 runs", "mean of the runs", "3 seeds were tried",
                 "| lr | 1e-3 |", "crop ± 4 pixels", "5 runs with the same seed",
                 "the paper ran 5 runs with different random seeds", "| ResNet-50 | 76.3 ± 0.2 |",
                 "set the seed to 42 and train for 3 epochs", "2 models trained with seed 1", "repeated once"):
        assert prose_sweeps(text) == [], text


def test_readme_sweep_excuses_only_the_scripts_it_names(tmp_path):
    option = "import argparse\nimport torch\np = argparse.ArgumentParser()\np.add_argument('--seed', type=int, default=0)\n"
    script = option + "args = p.parse_args()\ntorch.manual_seed(args.seed)\n" + TRAIN
    write(tmp_path, {"README.md": "Run `python train.py`. Error (mean of 5 runs): 4.2\n",
                     "train.py": script, "finetune.py": script})
    assert sorted((f["path"], f["code"]) for f in lint(tmp_path)) == [("finetune.py", "SEED002")]


def test_sweep_stated_in_another_page_of_the_folder(tmp_path):
    option = "import argparse\nimport torch\np = argparse.ArgumentParser()\np.add_argument('--seed', type=int, default=0)\n"
    script = option + "args = p.parse_args()\ntorch.manual_seed(args.seed)\n" + TRAIN
    write(tmp_path, {"FINETUNE.md": "Fine-tune with `python finetune.py`. We ran 4 trials with different random seeds "
                                    "and report mean and std.\n",
                     "docs/RESULTS_TABLE.md": "| model | acc (mean ± std over 3 seeds) |\n|---|---|\n| `train.py` | 76.3 ± 0.2 |\n",
                     "train.py": script, "finetune.py": script, "pretrain.py": script})
    assert sorted((f["path"], f["code"]) for f in lint(tmp_path)) == [("pretrain.py", "SEED002")]


def test_sentinel_defaults_turn_seeding_off(tmp_path):
    script = ("import argparse\nimport torch\np = argparse.ArgumentParser()\n"
              "p.add_argument('--seed', type=int, default={default})\nargs = p.parse_args()\n"
              "if {guard}:\n    torch.manual_seed(args.seed)\n" + TRAIN)
    for default, guard, flagged in ((-1, "args.seed != -1", False), (0, "args.seed", False),
                                    (0, "args.seed >= 0", True), (3, "args.seed", True)):
        write(tmp_path, {"train.py": script.format(default=default, guard=guard)})
        assert bool(lint(tmp_path)) is flagged, (default, guard)


def test_option_spellings_are_one_setting(tmp_path):
    script = ("import argparse\nimport torch\np = argparse.ArgumentParser()\n"
              "p.add_argument('{flag}', type=int, default=7)\nargs = p.parse_args()\n"
              "torch.manual_seed(args.{dest})\n" + TRAIN)
    for flag, dest in (("--manualSeed", "manualSeed"), ("--random-seed", "random_seed"), ("--rng_seed", "rng_seed")):
        write(tmp_path, {"train.py": script.format(flag=flag, dest=dest)})
        assert [f["code"] for f in lint(tmp_path)] == ["SEED002"], flag


def test_config_object_seed_is_reported_at_the_seeding_call(tmp_path):
    write(tmp_path, {
        "config.py": "from yacs.config import CfgNode as CN\n_C = CN()\n_C.SEED = 0\n",
        "train.py": "import torch\nfrom config import _C as cfg\ntorch.manual_seed(cfg.SEED)\n" + TRAIN,
    })
    found = lint(tmp_path)
    assert [(f["path"], f["line"], f["code"]) for f in found] == [("train.py", 3, "SEED001")]
    assert [r["path"] for r in found[0]["related"]] == ["config.py"]


def test_optuna_sampler_seed_is_not_the_runs_seed():
    text = "hydra:\n  sweeper:\n    sampler:\n      seed: 1234\nseed: 7\n"
    assert [(key, value) for _, _, key, value in fixed_seeds(text, "yaml")] == [("seed", 7)]


def test_unloaded_seed_list_excuses_nothing(tmp_path):
    write(tmp_path, {"results.json": '{"seeds": [0, 1, 2]}', "train.py": "import torch\ntorch.manual_seed(0)\n" + TRAIN})
    assert [f["code"] for f in lint(tmp_path)] == ["SEED001"]


def test_launchers_pass_counts_last_on_a_command_line_wins():
    from mllint.rules.seed.sweeps import passed_counts

    text = "python -u run.py \\\n  --itr 3 \\\n  --data x --itr 1\n\npython run.py --itr 2 --batch-size 32\n# python run.py --itr 9\necho --itr 7\n"
    assert passed_counts(text) == {"itr": [1, 2], "batch_size": [32]}
