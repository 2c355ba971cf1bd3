"""Gates of the tenth speed round: each answers what the code it stands in front of would (core/text_gates.py,
rules/prep/gates.py). The expressions are the families' own, imported: a gate follows them if they change."""
from __future__ import annotations

import pathlib
import re

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllint.core.text_gates import may_infer, search_at_words
from mllint.core.walk import Index
from mllint.rules.eval import _TTA_CONFIG
from mllint.rules.prep import _BATCH_CONFIG
from mllint.rules.prep.extract import infers
from mllint.rules.prep.gates import binds_small_statistics, names_small_dataset
from mllint.rules.prep.statistics import DATASET_NAMES

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEARCHES = [(_TTA_CONFIG, ("scale", "flip", "tta", "augment"), ()),
            (_BATCH_CONFIG, ("batch",), ("dict(", "namespace(", "config"))]
PIECES = ["batch", "BATCH", "Batch", "scale", "FLIP", "tta", "Augment", " ", "\n", "\t", ".", "'", '"', "=", "==",
          ":", "[", "(", ")", "True", "False", "x", "_", "1", "dict(", "Dict(", "EasyDict(", "edict(", "Namespace(",
          "Config", "ConfigX(", "\u017f", "\u212a", "\u0131", "\u0130", "\u00e9", "int", ",", "#", "\r\n", "  ",
          "load_state_dict(", "torch.load(", ".load_from_checkpoint(", ".eval()", "no_grad", "inference_mode", "b"]


def _texts():
    return [p.read_text(encoding="utf-8", errors="replace")
            for folder in ("fixtures", "mllint", "tests") for p in sorted((ROOT / folder).rglob("*.py"))]


@pytest.mark.parametrize("which", [0, 1], ids=["tta", "batch"])
def test_search_at_words_agrees_with_the_expression_on_the_shipped_code(which):
    pattern, words, starts = SEARCHES[which]
    answers = [(search_at_words(pattern, t, words, starts), pattern.search(t) is not None) for t in _texts()]
    assert all(mine == theirs for mine, theirs in answers)
    assert any(mine for mine, _ in answers) and not all(mine for mine, _ in answers)


@settings(max_examples=4000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_search_at_words_agrees_with_the_expression_on_random_text(text):
    for pattern, words, starts in SEARCHES:
        assert search_at_words(pattern, text, words, starts) == (pattern.search(text) is not None), text


@pytest.mark.parametrize("text", [
    "_C.TEST.SCALE_LIST = [1]", "cfg = {'flip_test': False}", "  FLIP_TEST: bool = False", "x.scale = True",
    "\n\n   \n  tta = (1, 2)", "a.b_batch_size = 1", "d = dict(x=1,\n batch_size=4)", "Config(batch = 2)",
    "'val_batch': 3", "batch_size: int = 8", "self.scale = dim ** -0.5", "scale=2", "BATCH == 3"])
def test_search_at_words_examples(text):
    for pattern, words, starts in SEARCHES:
        assert search_at_words(pattern, text, words, starts) == (pattern.search(text) is not None)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10).map("".join))
def test_may_infer_is_necessary_for_infers(text):
    assert may_infer(text) or not infers(text)


def test_may_infer_on_the_shipped_code():
    assert all(may_infer(t) or not infers(t) for t in _texts())


@pytest.mark.parametrize("text,expected", [
    ("ds = CIFAR10(root)", True), ("ds = datasets.Cifar_100(root)", True), ("S_V_H_N()", True),
    ("FashionMNIST()", True), ("ImageNet()", False), ("cifar = 1", False), ("C_I_F_A_R_1_0()", True),
    ("M\u0301NIST()", True),  # a combining mark inside an identifier: not alphanumeric, dropped by dataset_of
])
def test_names_small_dataset(text, expected):
    assert names_small_dataset(text) is expected


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="cCiIfFaArR10sSvVhHnNmMtT_\u0130\u017f\u0301", max_size=16),
       st.sampled_from(["", "x = ", "a.", "(", "\n"]), st.sampled_from(["", "(", " = 1", ".x"]))
def test_names_small_dataset_covers_every_identifier(name, before, after):
    """Whatever identifier dataset_of takes for a small dataset, the gate says yes on any text holding it."""
    key = "".join(ch for ch in name.lower() if ch.isalnum())
    if DATASET_NAMES.get(key) not in (None, "ImageNet"):
        assert names_small_dataset(before + name + after)


@pytest.mark.parametrize("code,expected", [
    ("CIFAR_MEAN = (0.4914, 0.4822, 0.4465)\n", True),
    ("if True:\n    MNIST_STD = [0.3081]\n", True),
    ("MEAN = (0.485, 0.456, 0.406)\n", False),  # ImageNet's: no small dataset
    ("def f():\n    MEAN = (0.4914, 0.4822, 0.4465)\n", False),
    ("class C:\n    MEAN = (0.4914, 0.4822, 0.4465)\n", False),
    ("MEAN = (125.3, 123.0, 113.9)\n", True),
    ("MEAN = np.array([0.4914, 0.4822, 0.4465])\n", False),
])
def test_binds_small_statistics(code, expected):
    module = cst.parse_module(code)
    assert binds_small_statistics(module, Index(module)) is expected


@pytest.mark.parametrize("code,expected", [
    ("normalize = T.Normalize(MEAN, STD)\n", True), ("tf = Compose([ToTensor()])\n", True),
    ("if x:\n    tf = Compose([])\n", False),  # exported_pipelines reads the top-level statements only
    ("def f():\n    tf = Compose([])\n", False), ("tf = make(Compose([]))\n", False), ("a = b = Normalize()\n", False),
    ("data_transform = {'train': Compose([Normalize(m, s)])}\n", True),
])
def test_binds_pipeline(code, expected):
    from mllint.rules.prep.gates import binds_pipeline

    assert binds_pipeline(cst.parse_module(code)) is expected


@pytest.mark.parametrize("code", [
    "import cifar_stats\nMEAN = (0.4914, 0.4822, 0.4465)\nSTD = (0.2470, 0.2435, 0.2616)\n"
    "normalize = Normalize(MEAN, STD)\n",
    "from x import tf\nds = CIFAR10(root, transform=tf)\n",
    "from x import MEAN\nn = Normalize(MEAN, STD)\n",
])
def test_the_gate_lets_the_facts_through(code):
    """Modules that give prep_stats_names facts pass its gate (the extractor's answer with and without it)."""
    from mllint.context import ModuleContext
    from mllint.core.walk import indexed
    from mllint.rules.prep import extract_stats_names

    module = cst.parse_module(code)
    index = Index(module)
    with indexed(index):
        ctx = ModuleContext(module, "train.py", module.code, frozenset({"x", "cifar_stats", "train"}), index=index)
        assert extract_stats_names(ctx) is not None


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(["dl", "DL", "gen", "Gen", "iter", "ITERATOR", "batches", "loader", "Loader", "_", "x",
                                 "1", "data", "a", "\u017f", "\u0130", "\u212a"]), min_size=1, max_size=6).map("".join),
       st.sampled_from(["", " ", "(", "self.", "\n", "+"]), st.sampled_from(["", " ", ")", ".x", "=", "\n"]))
def test_names_loader_holds_every_loaderish_identifier(name, before, after):
    """An identifier that reads as a loader, between characters that end an identifier: the gate says yes."""
    from mllint.core.text_gates import names_loader
    from mllint.rules.prep.loaders import _LOADERISH

    if name.isidentifier() and _LOADERISH.search(name):
        assert names_loader(before + name + after), (before, name, after)


@pytest.mark.parametrize("text,expected", [
    ("for x in test_loader:", True), ("val_dl = f()", True), ("it = iter(x)", True), ("data_iter2", True),
    ("general = 1", False), ("iterable = 2", False), ("the_generator", False), ("DataLoader(ds)", True),
    ("gen_x", True), ("xdl", False)])
def test_names_loader_examples(text, expected):
    from mllint.core.text_gates import names_loader

    assert names_loader(text) is expected
