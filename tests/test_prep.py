"""PREP: messages, hints and related locations on whole projects, and the domain's sources, swaps and sinks
in-process."""
from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from mllint.dataflow.terms import SourceTerm
from mllint.rules.prep.domain import prep_facts
from mllint.rules.prep.statistics import match
from mllint.config import Config
from mllint.context import ModuleContext
from mllint.engine import run
from mllint.findings import Severity

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def findings(folder: Path, code: str = "PREP"):
    result = run([str(folder)], Config(), [code], [], jobs=1)
    return [f for f in result.findings if f.code.startswith(code)]


def related(finding) -> list[tuple[str, int, str]]:
    return [(Path(r.loc.path).name, r.loc.line, r.message) for r in finding.related]


def test_bgr_image_across_modules_names_where_it_was_read_and_consumed():
    (found,) = findings(FIXTURES / "prep_pos_bgr_imagenet_cross_module")
    assert found.code == "PREP001" and found.loc.line == 14
    assert found.message.startswith("a BGR image reaches the RGB normalisation `image - IMAGENET_MEAN` "
                                    "(mean (0.485, 0.456, 0.406)): it comes from cv2.imread(), in BGR order (")
    assert "data.py:6)" in found.message
    assert related(found) == [("data.py", 6, "read in BGR order: cv2.imread(), in BGR order"),
                              ("train.py", 13, "returned by load()")]
    assert "cv2.cvtColor(img, cv2.COLOR_BGR2RGB)" in found.hint


@pytest.mark.parametrize("folder, line, consumer", [
    ("prep_pos_video_pretrained", 15, "the pretrained model `model`"),
    ("prep_pos_transform_object", 14, "the RGB transform `transform`"),
    ("prep_pos_pil_fromarray", 8, "`Image.fromarray()`, which reads the array as RGB"),
    ("prep_pos_flag_off", 10, "the RGB normalisation `normalize()`"),
])
def test_each_kind_of_rgb_consumer(folder, line, consumer):
    (found,) = findings(FIXTURES / folder)
    assert (found.loc.line, found.message.split(": it comes from")[0]) == (line, f"a BGR image reaches {consumer}")
    assert found.related and found.related[0].message.startswith("read in BGR order: ")


def interpret(source: str, rel: str = "m.py"):
    text = textwrap.dedent(source)
    ctx = ModuleContext(cst.parse_module(text), rel, text)
    return prep_facts(ctx)


@pytest.mark.parametrize("swap", [
    "img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)",
    "img = img[..., ::-1]",
    "img = img[:, :, [2, 1, 0]]",
    "img = img.transpose((2, 0, 1))[::-1]",
    "img = np.flip(img, -1)",
    "img = img2tensor(img, bgr2rgb=True)",
])
def test_a_channel_swap_clears_the_image(swap):
    source = f"""
        import cv2
        import numpy as np

        def swap(x, to_rgb=True):
            if to_rgb:
                x = cv2.cvtColor(x, cv2.COLOR_BGR2RGB)
            return x

        def f(path):
            img = cv2.imread(path)
            {swap}
            return img - np.array([0.485, 0.456, 0.406])
    """
    assert interpret(source).sinks == []
    unswapped = interpret(source.replace(swap, "img = img.astype(np.float32)"))
    assert [s.what for s in unswapped.sinks] == ["the RGB normalisation `img - np.array([0.485, 0.456, 0.406])` "
                                                 "(mean (0.485, 0.456, 0.406))"]


@pytest.mark.parametrize("line", [
    "img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)",
    "img = cv2.imread(path, 0)",
    "img = imageio.imread(path)",
])
def test_grayscale_and_rgb_readers_are_not_sources(line):
    facts = interpret(f"""
        import cv2
        import imageio

        def f(path):
            {line}
            return img - [0.485, 0.456, 0.406]
    """)
    assert facts.sources == []
    assert not any(isinstance(t, SourceTerm) for sink in facts.sinks for t in sink.val.flat())


def test_bgr_statistics_and_symmetric_ones_are_not_rgb_consumers():
    facts = interpret("""
        import cv2

        def f(path):
            img = cv2.imread(path)
            a = img - [103.53, 116.28, 123.675]
            b = (img - [0.5, 0.5, 0.5]) / [0.5, 0.5, 0.5]
            return a, b
    """)
    assert len(facts.sources) == 1 and facts.sinks == []


def test_a_consumed_image_is_reported_once_not_again_downstream():
    facts = interpret("""
        import cv2
        import torchvision

        def f(path):
            model = torchvision.models.resnet18(pretrained=True)
            x = (cv2.imread(path) - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
            return model(x)
    """)
    assert [s.what.split(" `")[0] for s in facts.sinks] == ["the RGB normalisation"]


def test_known_statistics_in_any_order_and_scale():
    assert match((0.4914, 0.4822, 0.4465)).stats.dataset == "CIFAR-10"
    assert match((0.2023, 0.1994, 0.2010)).stats.wrong
    bgr = match((103.53, 116.28, 123.675))
    assert (bgr.stats.dataset, bgr.bgr, bgr.scale) == ("ImageNet", True, 255.0)
    assert match((0.3, 0.3, 0.2)) is None


def test_metric_protocol_message_and_both_ways():
    found = findings(FIXTURES / "prep_pos_basicsr_metrics", "PREP002")
    assert [f.message for f in found] == [
        "`calculate_psnr` computes PSNR on Y of YCbCr (BT.601) when `test_y_channel` is true, with a border crop of "
        "`crop_border` pixels (set by the caller), in data range 255: state this protocol with the numbers",
        "`calculate_ssim` computes SSIM on Y of YCbCr (BT.601) when `test_y_channel` is true, with a border crop of "
        "`crop_border` pixels (set by the caller): state this protocol with the numbers",
    ]
    assert all(f.severity is Severity.INFO for f in found)
    assert findings(FIXTURES / "prep_neg_swinir_both", "PREP002") == []


def test_statistics_of_another_dataset_name_the_branch():
    (found,) = findings(FIXTURES / "prep_pos_svhn_branch", "PREP003")
    assert found.message == ("CIFAR-10 statistics (mean (0.4914, 0.4822, 0.4465)) normalise the SVHN branch "
                             "(`name == \"svhn\"`)")
    assert related(found) == [("data.py", 8, "the SVHN branch")]
    (switch,) = findings(FIXTURES / "prep_pos_cifar_option_switch", "PREP003")
    assert "also normalise CIFAR-100 data" in switch.message
    assert related(switch) == [("train.py", 15, "CIFAR-100 is used here")]


def test_transform_mismatch_points_at_both_transforms():
    (found,) = findings(FIXTURES / "prep_pos_test_other_constants", "PREP004")
    assert found.loc.line == 10
    assert found.message == ("the evaluation transform normalises with other constants ((0.485, 0.456, 0.406), "
                             "(0.229, 0.224, 0.225)) than the training transform ((0.5071, 0.4865, 0.4409), "
                             "(0.2673, 0.2564, 0.2762))")
    assert [(line, message) for _, line, message in related(found)] == [
        (5, "the training transform"), (12, "evaluation Normalize"), (8, "training Normalize")]
    (missing,) = findings(FIXTURES / "prep_pos_test_not_normalized", "PREP004")
    assert missing.message == "the evaluation transform does not normalise; the training transform does"


def test_a_transform_held_on_the_object_is_followed_to_where_it_was_built():
    (found,) = findings(FIXTURES / "prep_pos_dataset_self_transform")
    assert found.loc.line == 13 and found.message.startswith(
        "a BGR image reaches `self.transform`, which holds `Normalize` with RGB statistics: it comes from cv2.imread()")
    assert related(found) == [("dataset.py", 11, "read in BGR order: cv2.imread(), in BGR order"),
                              ("train.py", 10, "RGB consumer: `Normalize` with RGB statistics")]
    assert findings(FIXTURES / "prep_neg_dataset_self_transform_rgb") == []
    assert findings(FIXTURES / "prep_neg_compose_swap_step") == []


def test_a_pretrained_model_is_not_a_bgr_image(tmp_path):
    """Consumers are sources too (tagged): one reaching a sink on the data is not a BGR image."""
    (tmp_path / "README.md").write_text("x\n")
    (tmp_path / "show.py").write_text(textwrap.dedent("""
        import torchvision
        from PIL import Image

        def show():
            model = torchvision.models.resnet18(pretrained=True)
            return Image.fromarray(model.conv1.weight.detach().numpy())
    """))
    (sink,) = interpret((tmp_path / "show.py").read_text()).sinks
    assert [t.tags for t in sink.val.flat() if isinstance(t, SourceTerm)] == [frozenset({"pretrained"})]
    assert findings(tmp_path) == []


def test_loader_factory_test_branch_and_every_other_split_called_with_val():
    found = findings(FIXTURES / "prep_pos_loader_factory", "PREP005")
    assert [(Path(f.loc.path).name, f.loc.line) for f in found] == [("data_factory.py", 9), ("data_factory.py", 17)]
    assert "branch that builds the evaluation loader" in found[0].message
    assert "calls with flag='val'" in found[1].message and "'test', 'pred'" in found[1].message


def test_drop_last_only_where_samples_are_lost():
    assert findings(FIXTURES / "prep_neg_train_drop_last", "PREP005") == []
    assert findings(FIXTURES / "prep_neg_factory_train_only", "PREP005") == []
    (loop,) = findings(FIXTURES / "prep_pos_skip_partial_batch", "PREP005")
    assert loop.loc.line == 23 and "skips every batch that is not full" in loop.message


def test_copies_of_a_wrong_value_are_one_finding_with_the_others_related():
    (found,) = findings(FIXTURES / "prep_pos_imagenet_std_typo", "PREP003")
    assert "differs in a digit from the published ImageNet std (0.229, 0.224, 0.225)" in found.message
    assert related(found) == [("data.py", 17, "the same value, copied")]


def test_same_statistics_through_names_are_compared_by_value():
    assert findings(FIXTURES / "prep_neg_same_stats_other_spelling", "PREP004") == []
    (found,) = findings(FIXTURES / "prep_pos_stats_through_names", "PREP004")
    assert "((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))" in found.message
    assert "((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))" in found.message


def test_metric_protocol_decided_by_configs_or_named_options_is_silent():
    assert findings(FIXTURES / "prep_neg_metric_configs_off", "PREP002") == []
    assert findings(FIXTURES / "prep_neg_metric_named_option", "PREP002") == []
    (on,) = findings(FIXTURES / "prep_pos_metric_configs_on", "PREP002")
    assert "when `test_y_channel` is true" in on.message
    (shave,) = findings(FIXTURES / "prep_pos_metric_shave_scale", "PREP002")
    assert "(callers pass `shave_border=scale`)" in shave.message


def test_shared_loader_helper_that_always_drops_is_judged_at_its_evaluation_calls():
    found = findings(FIXTURES / "prep_pos_shared_loader_helper", "PREP005")
    assert [(Path(f.loc.path).name, f.loc.line) for f in found] == [("train.py", 6), ("train.py", 7), ("train.py", 8),
                                                                    ("train.py", 9), ("train.py", 21)]
    assert "`val_loader` is built by `get_loader()`" in found[0].message
    assert related(found[1]) == [("data.py", 12, "`drop_last=True` in `build_dataloader()`")]
    assert findings(FIXTURES / "prep_neg_shared_loader_helper", "PREP005") == []


def test_hf_dataloader_drop_last_only_where_the_trainer_evaluates():
    (found,) = findings(FIXTURES / "prep_pos_hf_drop_last", "PREP005")
    assert found.loc.line == 10 and "evaluation and prediction loaders" in found.message
    assert findings(FIXTURES / "prep_neg_hf_drop_last", "PREP005") == []


def test_inference_script_normalising_by_hand_is_compared_with_the_training_transform():
    (found,) = findings(FIXTURES / "prep_pos_inference_by_hand", "PREP004")
    assert Path(found.loc.path).name == "predict.py" and found.loc.line == 12
    assert "normalises by hand with other constants ((0.4914, 0.4822, 0.4465)" in found.message
    assert related(found) == [("train.py", 3, "the training transform")]
    assert findings(FIXTURES / "prep_neg_inference_by_hand", "PREP004") == []


def test_loader_keyword_dict_that_drops_is_judged_at_the_evaluation_loader_it_is_spread_into():
    found = findings(FIXTURES / "prep_pos_loader_kwargs_dict", "PREP005")
    assert [f.loc.line for f in found] == [10, 11]
    assert "`test_loader` takes `**loader_kwargs`, which sets `drop_last=True`" in found[0].message
    assert related(found[1]) == [("train.py", 4, "`drop_last=True` in `LOADER_KWARGS`")]
    assert findings(FIXTURES / "prep_neg_loader_kwargs_dict", "PREP005") == []


def test_integer_literals_in_any_base_are_read_not_crashed_on(tmp_path):
    """`0x3fff`, `1_000`, `0o17`: Python integer literals that `int(text)` rejects; the loaders' facts read them
    (`int(text, 0)`) instead of failing the module (FILE008)."""
    (tmp_path / "evaluate.py").write_text(textwrap.dedent("""
        import torch
        from torch.utils.data import DataLoader, Subset

        N_TEST = 0x3e8
        STEP = 0o12
        loss_min = 0x3fff


        def evaluate(model, test_set):
            test_set = Subset(test_set, range(0, len(test_set), STEP))
            loader = DataLoader(test_set, batch_size=1_000, drop_last=True)
            with torch.no_grad():
                return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / N_TEST
    """))
    found = run([str(tmp_path)], Config(), ["PREP", "FILE"], [], jobs=1).findings
    assert not [f.message for f in found if f.code.startswith("FILE")]
    assert {f.code for f in found} == {"PREP005"}
    assert any("every 10th sample" in f.message for f in found)
