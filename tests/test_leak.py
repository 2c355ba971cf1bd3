"""LEAK details the fixture files do not show: related locations, messages, JSON fields, configuration,
value inference, and look-alikes that must stay silent."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from mllint.config import Config
from mllint.engine import run

TRAIN_LOOP = """
model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


FLOW_CODES = ["LEAK001", "LEAK002", "LEAK003"]  # the data-flow rules; LEAK004 has tests/test_leak_report.py


def lint(tmp_path: Path, files: dict[str, str], config: Config | None = None) -> list:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "README.md").write_text("project\n")
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    result = run([str(tmp_path)], config or Config(), FLOW_CODES, [], jobs=1)
    return result.findings


def src(*parts: str) -> str:
    """Concatenate code snippets, each dedented on its own."""
    return "".join(textwrap.dedent(p).lstrip("\n") for p in parts)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_cross_module_chain_has_source_and_each_hop_as_related(tmp_path):
    findings = lint(tmp_path, {
        "data.py": src("""
            from datasets import load_dataset

            def held_out():
                return load_dataset("imdb", split="test")
        """),
        "loaders.py": src("""
            from torch.utils.data import DataLoader
            from data import held_out

            def make_loader():
                return DataLoader(held_out(), batch_size=8)
        """),
        "train.py": "import torch\nfrom torch import nn\nfrom loaders import make_loader\nloader = make_loader()\n" + TRAIN_LOOP,
    })
    assert codes(findings) == ["LEAK001"]
    finding = findings[0]
    assert finding.loc.path.endswith("train.py") and finding.loc.line == 11
    assert "load_dataset(split='test')" in finding.message
    related = [(Path(r.loc.path).name, r.loc.line, r.message) for r in finding.related]
    assert related == [
        ("data.py", 4, "held-out data: load_dataset(split='test')"),
        ("loaders.py", 5, "returned by held_out()"),
        ("train.py", 4, "returned by make_loader()"),
    ]


def test_json_output_carries_the_contract_fields(tmp_path):
    (tmp_path / "README.md").write_text("x\n")
    (tmp_path / "train.py").write_text(
        "import torch\nfrom torch import nn\nimport torchvision\n"
        "loader = torch.utils.data.DataLoader(torchvision.datasets.MNIST('d', train=False))\n" + TRAIN_LOOP)
    proc = subprocess.run([sys.executable, "-m", "mllint", "--select", "LEAK", "--format", "json", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    [finding] = json.loads(proc.stdout)
    assert finding["code"] == "LEAK001" and finding["name"] == "test-split-in-training"
    assert finding["severity"] == "error" and finding["line"] == 11 and finding["hint"]
    assert finding["related"][0]["line"] == 4
    assert finding["related"][0]["message"] == "held-out data: MNIST(train=False)"


def test_held_out_split_names_are_configurable(tmp_path):
    files = {"train.py": src("""
        import torch
        from torch import nn
        from datasets import load_dataset
        loader = load_dataset("corpus", split="test")
        other = load_dataset("corpus", split="holdout")
        for x, y in other:
            loss = nn.functional.mse_loss(nn.Linear(1, 1)(x), y)
            loss.backward()
        for x, y in loader:
            loss = nn.functional.mse_loss(nn.Linear(1, 1)(x), y)
            loss.backward()
    """)}
    default = lint(tmp_path, files)
    assert [f.loc.line for f in default] == [8, 11]
    custom = lint(tmp_path, files, Config(held_out_splits=["holdout"]))
    assert [f.loc.line for f in custom] == [8]


def test_the_default_value_of_a_split_parameter_decides(tmp_path):
    findings = lint(tmp_path, {"train.py": src("""
        import torch
        from torch import nn
        import torchvision

        def get_dataset(split="test"):
            return torchvision.datasets.CIFAR10("data", train=split == "train")

        loader = torch.utils.data.DataLoader(get_dataset())
    """, TRAIN_LOOP)})
    assert codes(findings) == ["LEAK001"]
    assert 'CIFAR10(train=split == "train")' in findings[0].message


def test_names_lie_construction_wins(tmp_path):
    findings = lint(tmp_path, {"train.py": src("""
        import torch
        from torch import nn
        from torchvision.datasets import CIFAR10
        test_loader = torch.utils.data.DataLoader(CIFAR10("d", train=True))
        val_loader = torch.utils.data.DataLoader(CIFAR10("d", train=False))
        loader = test_loader
    """, TRAIN_LOOP, """
        best = 0
        for epoch in range(3):
            acc = sum(model(x).argmax(1).eq(y).sum().item() for x, y in val_loader)
            is_best = acc > best
            best = max(acc, best)
            if is_best:
                torch.save(model.state_dict(), "best.pt")
    """)})
    assert [(f.code, f.loc.line) for f in findings] == [("LEAK002", 17)]  # one per selection


def test_suppression_with_a_reason_silences_a_leak(tmp_path):
    findings = lint(tmp_path, {"train.py": src("""
        import torch
        from torch import nn
        import torchvision
        loader = torch.utils.data.DataLoader(torchvision.datasets.MNIST("d", train=False))
        model = nn.Linear(4, 2)
        for x, y in loader:
            nn.functional.cross_entropy(model(x), y).backward()  # mllint: ignore[LEAK001] transductive protocol, declared
    """)})
    assert findings == []


def test_a_split_carved_from_the_training_split_is_validation(tmp_path):
    findings = lint(tmp_path, {"finetune.py": src("""
        from datasets import load_dataset
        from sklearn.model_selection import train_test_split
        from transformers import Trainer, TrainingArguments

        ds = load_dataset("food101", split="train[:5000]").train_test_split(test_size=0.2)
        ds = ds.map(lambda b: b, batched=True)
        args = TrainingArguments("out", load_best_model_at_end=True)
        Trainer(model=None, args=args, train_dataset=ds["train"], eval_dataset=ds["test"]).train()

        X_train, X_test, y_train, y_test = train_test_split(X, y)
        X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train)
        Trainer(model=None, args=args, train_dataset=X_fit, eval_dataset=X_val).train()
    """)})
    assert findings == []


def test_lightning_val_dataloader_on_the_test_split_with_a_monitored_checkpoint(tmp_path):
    findings = lint(tmp_path, {"module.py": src("""
        import lightning as L
        from lightning.pytorch.callbacks import ModelCheckpoint
        from torch.utils.data import DataLoader
        from torchvision.datasets import MNIST

        class Data(L.LightningDataModule):
            def train_dataloader(self):
                return DataLoader(MNIST("d", train=True))

            def val_dataloader(self):
                return DataLoader(MNIST("d", train=False))

        trainer = L.Trainer(callbacks=[ModelCheckpoint(monitor="val_acc", mode="max")])
    """)})
    assert [(f.code, f.loc.line) for f in findings] == [("LEAK002", 10)]


def test_metrics_averaged_over_the_test_set_are_not_fitted_statistics(tmp_path):
    findings = lint(tmp_path, {"evaluate.py": src("""
        import numpy as np
        import torch
        from torchvision.datasets import MNIST
        test_set = MNIST("d", train=False)
        losses = []
        for x, y in torch.utils.data.DataLoader(test_set):
            losses.append(torch.nn.functional.cross_entropy(model(x), y).item())
        mean_loss = np.mean(losses)
        accuracy = (predictions == test_set.targets).float().mean()
        print(test_set.data.float().mean())
    """)})
    assert findings == []


def test_split_options_and_conditional_best_updates(tmp_path):
    findings = lint(tmp_path, {"train.py": src("""
        import argparse
        import torch
        from datasets import load_dataset

        parser = argparse.ArgumentParser()
        parser.add_argument("--train-split", default="test")
        args = parser.parse_args()
        model = torch.nn.Linear(2, 2)
        for batch in load_dataset("imdb", split=args.train_split):
            model(batch["x"]).sum().backward()
        best = 0
        for epoch in range(3):
            acc = sum(model(b["x"]).sum() for b in load_dataset("imdb", split="test"))
            best = acc if acc > best else best
    """)})
    assert [(f.code, f.loc.line) for f in findings] == [("LEAK001", 10), ("LEAK002", 14)]
    assert "split=args.train_split = 'test'" in findings[0].message


def test_phases_of_one_loop_are_analysed_apart(tmp_path):
    findings = lint(tmp_path, {"train.py": src("""
        import torch
        from torchvision.datasets import MNIST
        loaders = {p: torch.utils.data.DataLoader(MNIST("d", train=p == "train")) for p in ("train", "test")}
        model = torch.nn.Linear(2, 2)
        for epoch in range(3):
            for phase in ("train", "test"):
                for x, y in loaders[phase]:
                    loss = torch.nn.functional.cross_entropy(model(x), y)
                    if phase == "train":
                        loss.backward()
    """)})
    assert findings == []


def test_lightning_train_dataloader_on_the_test_split(tmp_path):
    findings = lint(tmp_path, {"module.py": src("""
        import lightning as L
        from torch.utils.data import DataLoader
        from torchvision.datasets import MNIST

        class Data(L.LightningDataModule):
            def train_dataloader(self):
                return DataLoader(MNIST("d", train=False))
    """)})
    assert [(f.code, f.loc.line) for f in findings] == [("LEAK001", 6)]


def test_a_manual_slice_split_is_named_by_its_targets(tmp_path):
    findings = lint(tmp_path, {"fit.py": src("""
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        X, y = np.load("features.npy"), np.load("labels.npy")
        X_train, X_test = X[:800], X[800:]
        y_train, y_test = y[:800], y[800:]
        LogisticRegression().fit(X_train, y_train)
        LogisticRegression().fit(X_test, y_test)
    """)})
    assert [(f.code, f.loc.line) for f in findings] == [("LEAK001", 7)]
    assert findings[0].related[0].message == "held-out data: `X_test` (named as held-out data)"


def test_a_project_function_named_like_a_library_api_is_followed_not_matched(tmp_path):
    """`helpers.fit(...)` runs the project's own function: the leak is reported once, inside it. A method
    `fit` of a project class may hand on to a library base class, so that call stays a sink."""
    loader = "import torchvision\ntest_set = torchvision.datasets.MNIST('d', train=False)\n"
    findings = lint(tmp_path / "plain", {
        "helpers.py": "def fit(model, batches):\n    for x, y in batches:\n        model(x).sum().backward()\n",
        "train.py": loader + "import helpers\nhelpers.fit(None, test_set)\n",
    })
    assert [(Path(f.loc.path).name, f.loc.line, f.code) for f in findings] == [("helpers.py", 3, "LEAK001")]
    findings = lint(tmp_path / "method", {
        "net.py": "import keras\n\nclass Net(keras.Model):\n    def fit(self, x, **kwargs):\n        return super().fit(x, **kwargs)\n",
        "train.py": loader + "from net import Net\nNet().fit(test_set)\n",
    })
    assert ("train.py", 4, "LEAK001") in [(Path(f.loc.path).name, f.loc.line, f.code) for f in findings]


def test_a_split_decided_at_a_project_call_is_one_source_not_two(tmp_path):
    """`loader(train=False)` is read as a source at the call and decides the source inside `loader`: the message
    names one held-out source; a second, real one is counted."""
    data = "import torchvision\n\ndef loader(train):\n    return torchvision.datasets.MNIST('d', train=train)\n"
    loop = "def fit(model, batches):\n    for x, y in batches:\n        model(x).sum().backward()\n"
    [finding] = lint(tmp_path / "one", {
        "data.py": data, "engine.py": loop,
        "train.py": "from data import loader\nfrom engine import fit\nfit(None, loader(train=False))\n",
    })
    assert finding.message.endswith("comes from MNIST(train=train)")
    assert [r.message for r in finding.related][1] == "loader() called with `train=False`"
    [finding] = lint(tmp_path / "two", {
        "data.py": data, "engine.py": loop,
        "train.py": "import torchvision\nfrom data import loader\nfrom engine import fit\n"
                    "fit(None, loader(train=False))\nfit(None, torchvision.datasets.SVHN('d', split='test'))\n",
    })
    assert finding.message.endswith("(+1 more held-out source)")


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_findings(name: str) -> list:
    return run([str(FIXTURES / name)], Config(), FLOW_CODES, [], jobs=1).findings


def test_option_default_names_the_option_in_the_source():
    (finding,) = fixture_findings("leak_pos_option_default_path")
    assert finding.message == ("a metric on held-out data selects the model: computed on the path 'data/test' "
                               "(`args.val_dir`), it sets `best_acc`: the best score is chosen on it; `val_loader` is named as "
                               "validation data but is built from held-out data: the name misleads")
    assert [(Path(r.loc.path).name, r.loc.line) for r in finding.related] == [("train.py", 12)]


def test_loaders_given_to_a_setter_are_followed_into_another_method():
    (finding,) = fixture_findings("leak_pos_setter_loaders")
    assert "computed on CIFAR10(train=False)" in finding.message and "`self.save_model()`" in finding.message
    related = [(Path(r.loc.path).name, r.loc.line, r.message) for r in finding.related]
    assert related[0] == ("main.py", 7, "held-out data: CIFAR10(train=False)")
    assert ("main.py", 9, "passed to set_data_loader() as `loader_dict`") in related


def test_a_selection_inside_an_unrelated_if_is_reported():
    (finding,) = fixture_findings("leak_pos_named_loader_guarded")
    assert finding.message.endswith("it sets `is_best`: the best score is chosen on it")
    # the table of getters is followed (dataflow/dispatch.py): the source is the getter's `train=False`, not the name
    assert [r.message for r in finding.related][:2] == ["held-out data: CIFAR10(train=False)", "returned by get_cifar10()"]


# --- the held-out split decided by a config the code loads ---------------------------------------------------

CONFIG_TRAIN = """
import torch
import yaml
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

with open("configs/run.yaml") as f:
    cfg = yaml.safe_load(f)
train_loader = DataLoader(ImageFolder(cfg["data"]["train_root"]), shuffle=True)
eval_loader = DataLoader(ImageFolder(cfg["data"]["eval_root"]))
best = 0.0
for epoch in range(10):
    fit_one_epoch(model, train_loader)
    acc = evaluate(model, eval_loader)
    if acc > best:
        best = acc
        torch.save(model.state_dict(), "best.pt")
"""


def test_a_config_value_naming_the_test_folder_is_held_out_with_the_config_line_related(tmp_path):
    findings = lint(tmp_path, {
        "configs/run.yaml": "data:\n  train_root: data/train\n  eval_root: data/test\nepochs: 10\n",
        "train.py": src(CONFIG_TRAIN),
    })
    (finding,) = findings
    assert (finding.code, Path(finding.loc.path).name, finding.loc.line) == ("LEAK002", "train.py", 14)
    assert "the config value `cfg[\"data\"][\"eval_root\"]` (`data.eval_root: data/test` in" in finding.message
    related = [(Path(r.loc.path).name, r.loc.line, r.loc.column, r.message) for r in finding.related]
    assert related == [
        ("run.yaml", 3, 3, "held-out data named in the config: `data.eval_root: data/test`"),
        ("train.py", 9, 38, "held-out data: the config value `cfg[\"data\"][\"eval_root\"]`"),
    ]


def test_a_config_value_is_held_out_only_where_the_config_says_so(tmp_path):
    """The same code with a validation folder in the config, with the config not named by any code, or with the
    key missing from it: no finding."""
    cases = {
        "val": {"configs/run.yaml": "data:\n  train_root: data/train\n  eval_root: data/val\n"},
        "unnamed": {"configs/other.yaml": "data:\n  train_root: data/train\n  eval_root: data/test\n"},
        "missing": {"configs/run.yaml": "data:\n  train_root: data/train\n  test_root: data/test\n"},
    }
    for name, files in cases.items():
        assert lint(tmp_path / name, {**files, "train.py": src(CONFIG_TRAIN)}) == [], name


def test_an_edited_config_changes_the_findings_of_a_cached_run(tmp_path):
    project = tmp_path / "p"
    lint(project, {"configs/run.yaml": "data:\n  train_root: data/train\n  eval_root: data/val\n",
                   "train.py": src(CONFIG_TRAIN)})
    cache = tmp_path / "cache"

    def cached() -> list:
        return run([str(project)], Config(), ["LEAK"], [], jobs=1, cache_dir=str(cache), use_cache=True).findings

    assert cached() == []
    (project / "configs/run.yaml").write_text("data:\n  train_root: data/train\n  eval_root: data/test\n")
    assert codes(cached()) == ["LEAK002"]
    (project / "configs/run.yaml").write_text("data:\n  train_root: data/train\n  eval_root: data/val\n")
    assert cached() == []


def test_config_keys_decide_by_value_and_by_the_key_that_holds_it():
    from mllint.rules.leak.configs import decide
    from mllint.config import DEFAULT_HELD_OUT_SPLITS as S

    flat = {"test_batch_size": 256, "num_eval_iter": 5000, "eval_interval": 5, "test_only": False,
            "data.train.root": "data/train", "data.test.root": "data/test", "data.val.root": "data/train",
            "test_dataset.name": "Set5", "test_dataset.dataroot": "datasets/Set5", "val.name": "Set14",
            "val.dataroot_gt": "datasets/Set14/GT", "eval_split": "test", "latest_dir": "runs/latest",
            "test.train": False, "test_mode": "center_crop", "eval.save_dir": "results/eval", "eval.root": "data/val"}
    held_out = {keys: decide(flat, keys, "data", S) for keys in [
        ("test_batch_size",), ("num_eval_iter",), ("eval_interval",), ("test_only",), ("data",), ("data", "test"),
        ("data", "val"), ("test", "root"), ("test_dataset",), ("val",), ("eval_split",), ("latest_dir",),
        ("test",), ("test_mode",), ("root",), ("eval",)]}
    assert {keys for keys, hit in held_out.items() if hit} == {
        ("data", "test"), ("test", "root"), ("test_dataset",), ("eval_split",), ("test",)}
    assert held_out[("data", "test")] == ("data.test.root", "data/test")
    assert held_out[("test_dataset",)] == ("test_dataset.dataroot", "datasets/Set5")
    assert decide(flat, ("eval_split",), "split", S) == ("eval_split", "test")
    assert decide(flat, ("test_only",), "false", S) == ("test_only", False)
    assert decide({"test.save_dir": "results/test", "test.log_dir": "logs/test"}, ("test",), "data", S) is None


def test_config_key_positions_in_yaml_json_and_toml():
    from mllint.rules.leak.configs import key_position

    yaml_text = "# run\ndata:\n  train:\n    root: data/train\n  test:\n    root: data/test\n"
    assert key_position(yaml_text, ["data", "test", "root"], "c.yaml") == (6, 5)
    assert key_position("data: {train: {root: a}, test: {root: data/test}}\n", ["data", "test", "root"],
                        "c.yml") == (1, 33)
    json_text = '{\n  "train": {"root": "a"},\n  "test": {\n    "root": "data/test"\n  }\n}\n'
    assert key_position(json_text, ["test", "root"], "c.json") == (4, 6)
    assert key_position('[data.test]\nroot = "data/test"\n', ["data", "test", "root"], "c.toml") == (2, 1)


def test_a_hydra_config_group_names_the_test_folder(tmp_path):
    findings = lint(tmp_path, {
        "conf/config.yaml": "defaults:\n  - data: cifar\n  - _self_\nepochs: 10\n",
        "conf/data/cifar.yaml": "name: cifar10\ntrain_dir: data/cifar/train\neval_dir: data/cifar/test\n",
        "train.py": src("""
            import hydra
            import torch
            from torch.utils.data import DataLoader
            from torchvision.datasets import ImageFolder


            @hydra.main(version_base=None, config_path="conf", config_name="config")
            def main(cfg):
                train_loader = DataLoader(ImageFolder(cfg.data.train_dir), shuffle=True)
                eval_loader = DataLoader(ImageFolder(cfg.data.eval_dir))
                best = 0.0
                for epoch in range(cfg.epochs):
                    fit(model, train_loader)
                    acc = evaluate(model, eval_loader)
                    if acc > best:
                        best = acc
                        torch.save(model.state_dict(), "best.pt")
        """),
    })
    (finding,) = findings
    assert finding.code == "LEAK002"
    first = finding.related[0]
    assert (Path(first.loc.path).name, first.loc.line) == ("cifar.yaml", 3)
    assert first.message == "held-out data named in the config: `data.eval_dir: data/cifar/test`"


def test_a_key_held_out_in_one_config_and_not_in_another_of_the_same_script_is_not_decided(tmp_path):
    """A script naming a training config and a test config reads its data from either: no finding unless every
    config that has the key names held-out data there."""
    train = src(CONFIG_TRAIN).replace('with open("configs/run.yaml")', 'TEST_CONFIG = "configs/test.yaml"\nwith open("configs/run.yaml")')
    findings = lint(tmp_path, {
        "configs/run.yaml": "data:\n  train_root: data/train\n  eval_root: data/val\n",
        "configs/test.yaml": "data:\n  train_root: data/train\n  eval_root: data/test\n",
        "train.py": train,
    })
    assert findings == []


def test_configs_named_by_a_template_and_built_by_instantiate(tmp_path):
    """`f"configs/{args.dataset}.yaml"` names every config it can be; `instantiate(cfg.data.test)` builds the
    dataset the section describes. Held-out when all those configs say so."""
    train = src("""
        import argparse

        import torch
        from hydra.utils import instantiate
        from omegaconf import OmegaConf

        parser = argparse.ArgumentParser()
        parser.add_argument("--dataset", default="cifar10")
        args = parser.parse_args()
        cfg = OmegaConf.load(f"configs/{args.dataset}.yaml")
        train_set = instantiate(cfg.data.train)
        eval_set = instantiate(cfg.data.test)
        best = 0.0
        for epoch in range(10):
            fit(model, train_set)
            acc = evaluate(model, eval_set)
            if acc > best:
                best = acc
                torch.save(model.state_dict(), "best.pt")
    """)
    section = "data:\n  train:\n    _target_: datasets.Folder\n    root: data/{0}/train\n  test:\n" \
              "    _target_: datasets.Folder\n    root: data/{0}/{1}\n"
    findings = lint(tmp_path / "all", {"configs/cifar10.yaml": section.format("cifar10", "test"),
                                       "configs/cifar100.yaml": section.format("cifar100", "test"), "train.py": train})
    (finding,) = findings
    assert finding.code == "LEAK002" and "`data.test.root: data/cifar10/test`" in finding.message
    assert lint(tmp_path / "some", {"configs/cifar10.yaml": section.format("cifar10", "test"),
                                    "configs/cifar100.yaml": section.format("cifar100", "val"), "train.py": train}) == []
