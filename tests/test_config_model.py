"""The config model (mllint/core/config_model.py): config values defined in code and in config files, the
files code loads, and key paths resolved to their defining values."""
import json
import textwrap

import libcst as cst
import pytest

from mllint.context import ModuleContext
from mllint.core import config_model as cm


def facts_of(source: str, rel: str = "train.py", want=None) -> cm.ConfigFacts:
    text = textwrap.dedent(source)
    ctx = ModuleContext(cst.parse_module(text), rel, text)
    return cm.collect(ctx, want)


def values_of(source: str, rel: str = "train.py", want=None) -> set[tuple[str, object, str]]:
    return {(v.path, v.value, v.kind) for v in facts_of(source, rel, want).values}


@pytest.mark.parametrize("source, expected", [
    # yacs CfgNode defaults
    ("from yacs.config import CfgNode as CN\n_C = CN()\n_C.SEED = 0\n_C.TRAIN = CN()\n_C.TRAIN.LR = 0.1\n",
     {("SEED", 0, "attribute"), ("TRAIN.LR", 0.1, "attribute")}),
    # ml_collections
    ("import ml_collections\ndef get_config():\n    config = ml_collections.ConfigDict()\n    config.seed = 42\n"
     "    config.optim = ml_collections.ConfigDict(dict(lr=3e-4))\n    return config\n",
     {("seed", 42, "attribute"), ("lr", 3e-4, "call")}),
    # HParams / EasyDict / SimpleNamespace / dict calls, nested
    ("hps = HParams(seed=1234, train=dict(batch_size=16))\nprint(hps)\n",
     {("seed", 1234, "call"), ("train.batch_size", 16, "call")}),
    ("from easydict import EasyDict\ncfg = EasyDict({'optim': {'lr': 0.01}, 'seed': 3})\nrun(cfg)\n",
     {("optim.lr", 0.01, "dict"), ("seed", 3, "dict")}),
    ("from types import SimpleNamespace\nopt = SimpleNamespace(seed=7, name='run')\nrun(opt)\n",
     {("seed", 7, "call"), ("name", "run", "call")}),
    # dict literal
    ("def main():\n    config = {'train': {'seed': 5, 'amp': True}}\n",
     {("train.seed", 5, "dict"), ("train.amp", True, "dict")}),
    # subscript assignment
    ("def main(opt):\n    opt['seed'] = 11\n", {("seed", 11, "attribute")}),
    # dataclass / attrs / pydantic fields
    ("from dataclasses import dataclass, field\n@dataclass\nclass TrainArgs:\n    seed: int = 42\n"
     "    lr: float = field(default=1e-3)\n    _private: int = 1\n",
     {("seed", 42, "field"), ("lr", 1e-3, "field")}),
    ("import attr\n@attr.s\nclass Opts:\n    seed = attr.ib(default=9)\n", {("seed", 9, "field")}),
    ("from pydantic import BaseModel, Field\nclass Settings(BaseModel):\n    seed: int = Field(17)\n",
     {("seed", 17, "field")}),
    # a plain class that is not a config: its attributes are not fields
    ("class Net:\n    depth = 4\n", set()),
    # Python config modules (mmcv/mmengine, nanoGPT): globals, nested dicts
    ("_base_ = ['../_base_/runtime.py']\n'''A config.'''\nseed = 0\ntrain_cfg = dict(max_epochs=12, seed=1)\n",
     {("seed", 0, "module"), ("train_cfg.max_epochs", 12, "call"), ("train_cfg.seed", 1, "call")}),
    # code defaults at a read and for a missing value
    ("def main(cfg):\n    s = cfg.get('seed', 1337)\n    t = getattr(cfg, 'gamma', 0.5)\n",
     {("seed", 1337, "fallback"), ("gamma", 0.5, "fallback")}),
    ("def main(seed=None):\n    if seed is None:\n        seed = 0\n", {("seed", 0, "default")}),
    ("def main(args):\n    if args.seed is None:\n        args.seed = 2\n",
     {("seed", 2, "default"), ("seed", 2, "attribute")}),
    ("def main(args):\n    seed = args.seed or 123\n", {("seed", 123, "default")}),
    # os.environ.get is an environment read, not a config default
    ("import os\nx = os.environ.get('SEED', 0)\n", set()),
    # computed values are not config values
    ("def main(cfg, n):\n    cfg.seed = n + 1\n    cfg.lr = cfg.base_lr * 2\n", set()),
])
def test_values(source, expected):
    assert values_of(source) == expected


def test_want_filters_keys():
    found = values_of("cfg = dict(seed=1, lr=0.1, data_seed=2)\nrun(cfg)\n", want=lambda key: key.endswith("seed"))
    assert found == {("seed", 1, "call"), ("data_seed", 2, "call")}


def test_not_a_config_module_has_no_globals():
    assert values_of("seed = 0\nimport torch\ntorch.manual_seed(seed)\n") == set()


@pytest.mark.parametrize("source, loads", [
    ("cfg.merge_from_file('configs/base.yaml')\n", {"configs/base.yaml"}),
    ("from mmengine import Config\ncfg = Config.fromfile('configs/retina/retina_r50.py')\n",
     {"configs/retina/retina_r50.py"}),
    ("import json\nwith open('hps.json') as f:\n    hps = HParams(**json.load(f))\n", {"hps.json"}),
    ("import hydra\n@hydra.main(config_path='conf', config_name='train')\ndef main(cfg):\n    pass\n",
     {"conf", "train"}),
    ("from omegaconf import OmegaConf\nconf = OmegaConf.load('conf/exp.yml')\n", {"conf/exp.yml"}),
    ("open('notes.txt')\n", set()),
])
def test_loads(source, loads):
    facts = facts_of(source)
    assert set().union(*facts.loads.values()) if facts.loads else set() == loads
    assert (set().union(*facts.loads.values()) if facts.loads else set()) == loads


def test_base_files_are_loads():
    facts = facts_of("_base_ = ['../_base_/runtime.py', '../_base_/data.py']\nlr = 0.1\n", "configs/a/x.py")
    assert facts.loads == {"<module>": {"../_base_/runtime.py", "../_base_/data.py"}}


@pytest.mark.parametrize("text, expected", [
    ("cfg.TRAIN.seed", ("cfg", "TRAIN.seed")),
    ("config.SEED", ("config", "SEED")),
    ("hps.train.seed", ("hps", "train.seed")),
    ("opt['seed']", ("opt", "seed")),
    ("self.cfg.seed", ("self", "cfg.seed")),
    ("cfg.get('seed', 0)", ("cfg", "seed")),
    ("cfg.train.get('seed')", ("cfg", "train.seed")),
    ("getattr(args, 'seed', 0)", ("args", "seed")),
    ("cfg[key]", None),
    ("seed", None),
    ("f().seed", None),
])
def test_key_path(text, expected):
    assert cm.key_path(cst.parse_expression(text)) == expected


@pytest.mark.parametrize("read, defined, same", [
    ("TRAIN.SEED", "train.seed", True),
    ("seed", "train.seed", True),
    ("cfg.seed", "seed", True),
    ("manualSeed", "manual_seed", True),
    ("model.seed", "data.seed", False),
    ("seed", "seeds", False),
])
def test_path_matches(read, defined, same):
    assert cm.path_matches(read, defined) is same


def test_model_resolves_across_modules_and_scopes():
    defaults = facts_of("from yacs.config import CfgNode as CN\n_C = CN()\n_C.TRAIN = CN()\n_C.TRAIN.SEED = 0\n",
                        "config/defaults.py")
    other = facts_of("def make():\n    return dict(seed=5)\n", "tools/other.py")
    model = cm.ConfigModel({"config/defaults.py": defaults, "tools/other.py": other})
    found = model.resolve("TRAIN.SEED")  # `dict(seed=5)` may be the TRAIN node: a suffix matches
    assert [(d.rel, d.value.value) for d in found] == [("config/defaults.py", 0), ("tools/other.py", 5)]
    assert [d.rel for d in model.resolve("DATA.SEED")] == ["tools/other.py"]  # not TRAIN.SEED
    found = model.resolve("seed")
    assert [(d.rel, d.value.value) for d in found] == [("config/defaults.py", 0), ("tools/other.py", 5)]
    only = model.resolve("seed", where=lambda rel, scope: rel.startswith("config/"))
    assert [d.value.path for d in only] == ["TRAIN.SEED"]
    assert model.resolve("seed", kinds=("call",))[0].rel == "tools/other.py"
    assert model.resolve("lr") == []


def test_loaders(tmp_path):
    train = facts_of("cfg.merge_from_file('configs/base.yaml')\n", "tools/train.py")
    hydra = facts_of("import hydra\n@hydra.main(config_path='conf', config_name='train')\ndef main(cfg):\n    pass\n",
                     "run.py")
    model = cm.ConfigModel({"tools/train.py": train, "run.py": hydra})
    assert model.loaders("configs/base.yaml") == [("tools/train.py", "<module>")]
    assert model.loaders("conf/optim/adam.yaml") == [("run.py", "<module>")]
    assert model.loaders("results/seeds.json") == []  # a file no code names is loaded by nothing


def test_file_values(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "a.yaml").write_text("train:\n  seed: 3\n  lr: 0.1\nname: x\n")
    (tmp_path / "hps.json").write_text(json.dumps({"train": {"seed": 1234}}, indent=2))
    (tmp_path / "configs" / "_base_").mkdir()
    (tmp_path / "configs" / "_base_" / "runtime.py").write_text("seed = 0\nlog_level = 'INFO'\n")
    (tmp_path / "configs" / "retina.py").write_text("_base_ = ['./_base_/runtime.py']\nlr = 0.02\n")
    model = cm.ConfigModel({}, str(tmp_path))
    yaml_values = {(v.path, v.value, v.loc.line) for v in model.file_values("configs/a.yaml")}
    assert yaml_values == {("train.seed", 3, 2), ("train.lr", 0.1, 3), ("name", "x", 4)}
    assert [(v.path, v.value, v.loc.line) for v in model.file_values("hps.json", want=lambda k: k == "seed")] == [
        ("train.seed", 1234, 3)]
    retina = {(v.path, v.value, v.loc.path) for v in model.file_values("configs/retina.py")}
    assert ("seed", 0, "configs/_base_/runtime.py") in retina and ("lr", 0.02, "configs/retina.py") in retina
    assert model.file_values("missing.yaml") == []


def test_facts_pickle():
    import pickle

    facts = facts_of("cfg = dict(seed=1)\ncfg.merge_from_file('a.yaml')\n")
    again = pickle.loads(pickle.dumps(facts))
    assert again == facts and again.values[0].key == "seed"


def test_hydra_values(tmp_path):
    (tmp_path / "conf" / "optim").mkdir(parents=True)
    (tmp_path / "conf" / "train.yaml").write_text("defaults:\n  - optim: adam\n  - _self_\nseed: 12\n")
    (tmp_path / "conf" / "optim" / "adam.yaml").write_text("# Adam\nlr: 0.001\n")
    model = cm.ConfigModel({}, str(tmp_path))
    found = {(v.path, v.value, v.loc.path, v.loc.line) for v in model.hydra_values("conf", "train")}
    assert found == {("seed", 12, "conf/train.yaml", 4), ("optim.lr", 0.001, "conf/optim/adam.yaml", 2)}
    assert [v.path for v in model.hydra_values("conf", "train", want=lambda k: k == "seed")] == ["seed"]


@pytest.mark.parametrize("expr, spread", [
    ("dataclasses.asdict(self.loader_args)", "self.loader_args"),
    ("asdict(args)", "args"),
    ("vars(args)", "args"),
    ("args.__dict__", "args"),
    ("self.cfg.loader.model_dump()", "self.cfg.loader"),
    ("settings._asdict()", "settings"),
    ("loader_cfg.dict()", "loader_cfg"),
    ("dict()", None),
    ("loader_kwargs", None),  # a dict: its keys are read where it is bound
    ('cfg["loader"]["val"]', None),
    ("dict(args)", None),
])
def test_spread_object(expr, spread):
    found = cm.spread_object(cst.parse_expression(expr))
    assert (cst.Module([]).code_for_node(found) if found is not None else None) == spread


@pytest.mark.parametrize("expr, copied", [
    ("dataclasses.replace(self.args, shuffle=False)", ("self.args", {"shuffle"})),
    ("replace(args, drop_last=False, batch_size=1)", ("args", {"drop_last", "batch_size"})),
    ("attr.evolve(cfg)", ("cfg", set())),
    ('path.replace("train", "val")', None),  # a string's replace, not a copy
    ("copy.deepcopy(args)", None),
])
def test_copied_object(expr, copied):
    found = cm.copied_object(cst.parse_expression(expr))
    assert (None if found is None else (cst.Module([]).code_for_node(found[0]), set(found[1]))) == copied
