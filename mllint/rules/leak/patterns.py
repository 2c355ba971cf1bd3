"""What held-out data, data-preserving operations and LEAK sinks look like in code (names only)."""
from __future__ import annotations

import re
from functools import lru_cache

LEAK_TRAIN, LEAK_SELECT, LEAK_FIT, LEAK_REPORT = "LEAK001", "LEAK002", "LEAK003", "LEAK004"

PREPROCESSORS = re.compile(
    r"scaler|normali[sz]er|encoder|vectori[sz]er|tokeni[sz]er|imputer|pca|whiten|binarizer|discreti[sz]er|"
    r"transformer$|vocab|selectkbest|featurehasher|quantile|polynomialfeatures|kbins|svd",
    re.IGNORECASE,
)
FIT_METHODS = frozenset({"fit", "fit_transform", "partial_fit", "fit_resample"})
VOCAB_CALLS = frozenset({"build_vocab_from_iterator", "build_vocab", "fit_on_texts", "train_from_iterator",
                         "adapt", "train_new_from_iterator"})
STAT_METHODS = frozenset({"mean", "std", "var", "nanmean", "nanstd", "std_mean", "var_mean"})
STAT_FUNCS = frozenset({"numpy.mean", "numpy.std", "numpy.var", "numpy.nanmean", "numpy.nanstd", "torch.mean",
                        "torch.std", "torch.var", "torch.std_mean", "torch.var_mean"})
SAVE_CALLS = frozenset({
    "save", "save_checkpoint", "save_model", "save_pretrained", "save_weights", "save_state", "save_state_dict",
    "save_best", "save_networks", "save_network", "save_ckpt", "save_best_model",
})
BEST_NAME = re.compile(r"best|is_best|highest|lowest", re.IGNORECASE)
PATIENCE_NAME = re.compile(r"patience|counter|wait|bad_epochs|no_improve|stale|trigger|since_improv|early_stop",
                           re.IGNORECASE)
EARLY_STOP_CALL = re.compile(r"early_?stop|stopper", re.IGNORECASE)
SCHEDULER_NAME = re.compile(r"sched|plateau", re.IGNORECASE)
TRAIN_KEYWORDS = ("train", "is_train")
SPLIT_KEYWORDS = ("split", "subset", "image_set", "set_name", "partition", "split_name", "data_split", "mode",
                  "phase", "stage")
GENERIC_SPLIT_KEYWORDS = ("mode", "phase", "stage")  # only for callees named like data (`Dataset(mode=...)`)
TRAIN_LIKE_SPLITS = frozenset({"train", "training", "val", "valid", "validation", "dev", "trainval", "unlabeled",
                               "unlabelled", "extra"})

HELD_OUT_WORDS = frozenset({"test", "testing", "heldout", "held_out", "holdout"})  # literal split keys: construction visible
CONFIG_RECEIVER = re.compile(
    r"^(?:cfg|conf|config|configs|args|opt|opts|options|params|hparams|hp|hyp|settings|kwargs|defaults|metrics|"
    r"results?|history|scores|stats|logs?|meters?|summary|record|records|writer|flags|FLAGS|environ|paths?|dirs?)$"
    r"|_(?:cfg|conf|config|args|opts?|params|results?|metrics|paths?|dirs?)$",
    re.IGNORECASE,
)
DATASET_LIKE = re.compile(r"data|load|set$|split|fold|read|fetch|corpus|split|folder|loader|iter", re.IGNORECASE)
_DATA_SUFFIX = (r"(?:set|sets|loader|loaders|_?data|dataset|datasets|_?ds|_?dl|_?iter|_?gen|_?df|_?images|_?imgs|"
                r"_?labels|_?targets|_?features|_?samples|_?inputs|_?texts|_?examples|_?encodings|_?x|_?y|_?batches)")
_DATA_PREFIX = r"(?:x|y|data|ds|df|dl|loader|dataset|set|images|imgs|labels|targets|features|inputs|texts|samples)"
PATH_EXT = re.compile(r"\.(?:csv|tsv|json|jsonl|txt|npy|npz|pkl|pickle|parquet|h5|hdf5|feather|arrow|tfrecords?|"
                       r"mat|lmdb|zip|tar|gz|png|jpg)$", re.IGNORECASE)


@lru_cache(maxsize=4096)
def held_out_name(name: str, splits: tuple[str, ...]) -> bool:
    """`test_loader`, `testset`, `X_test`, `df_test`, `cifar_test`: a name that says held-out data."""
    lowered = name.lower().lstrip("_")
    for split in splits:
        s = re.escape(split.lower())
        if re.fullmatch(rf"(?:[a-z0-9]+_)?{s}_?{_DATA_SUFFIX}s?", lowered):
            return True
        if re.fullmatch(rf"(?:[a-z0-9]+_)?{_DATA_PREFIX}_?{s}", lowered):
            return True
        if re.fullmatch(rf"(?:mnist|cifar\d*|svhn|imagenet|coco|voc|\w*data\w*)_{s}", lowered):
            return True
    return False


def held_out_path(text: str, splits: tuple[str, ...], bare: bool = False) -> bool:
    """A path with a held-out component: `data/test`, `test.csv`, `X_test.npy`, `mnist_test/`.

    bare: the text is one path component (an argument of os.path.join), so `test` alone counts.
    """
    if not bare and "/" not in text and "\\" not in text and not PATH_EXT.search(text):
        return False
    for part in re.split(r"[/\\]", text):
        stem = part.rsplit(".", 1)[0].lower() if "." in part.strip(".") else part.lower()
        for split in splits:
            if stem == split or stem.startswith(split + "_") or stem.endswith("_" + split) or \
                    stem.startswith(split + "-") or stem.endswith("-" + split):
                return True
    return False


_METRIC_KEY = re.compile(
    r"(?:^|[_\-.])(?:acc|accs|accuracy|auc|auroc|ap|average_precision|m?ap\d*|f1|precision|recall|prec\d*|loss|losses|"
    r"err|error|errors|score|scores|iou|miou|dice|psnr|ssim|bleu|rouge\w*|wer|cer|mae|mse|rmse|top\d|ndcg|"
    r"perplexity|ppl|fid|is_score|metrics?)(?:$|[_\-.@\d])", re.IGNORECASE)


def metric_key(text: str) -> bool:
    """A key naming a score (`"test_err"`, `"average_precision"`, `"top1_acc"`), not a split or the data."""
    return bool(_METRIC_KEY.search(text))


def is_held_out_split(text: str, held_out: tuple[str, ...]) -> bool:
    """`test`, `test[:10%]`, `train+test` (tfds/HF split syntax), and named variants of a held-out split
    (`test_matched`, `test.clean`, `test-other`)."""
    for piece in text.replace(" ", "").split("+"):
        base = piece.split("[", 1)[0].lower()
        if base in held_out or re.split(r"[._-]", base, maxsplit=1)[0] in held_out:
            return True
    return False


# Config keys (`cfg.data.test.root`, `opt["test_dir"]`): a chain on a receiver named like a config is read as a
# possible config value when one of its keys could name data or a split (not `cfg.optim.lr`).
CONFIG_ROOT = re.compile(
    r"^(?:cfgs?|conf|configs?|opts?|options|args|hparams|hps?|params|settings|specs?)$|(?:_|^)(?:cfg|conf|config|opts?|args|"
    r"params|settings|spec)$|cfg$|config$|conf$",
    re.IGNORECASE,
)
_DATA_KEY_WORDS = frozenset({
    "test", "testing", "heldout", "held", "holdout", "eval", "evaluation", "val", "valid", "validation", "dev",
    "data", "dataset", "datasets", "dataroot", "root", "dir", "path", "folder", "file", "files", "split", "subset",
    "set", "sets", "list", "bench", "benchmark", "testset", "valset", "evalset", "devset", "images", "imgs",
})
# The leaf of a config key that names a location of data (`root`, `test_dir`, `dataroot_gt`, `ann_file`).
_PATH_KEY_WORDS = frozenset({
    "root", "dir", "path", "folder", "file", "files", "dataroot", "list", "csv", "json", "jsonl", "ann", "annotation",
    "annotations", "prefix", "images", "imgs", "location", "data", "dataset", "datasets", "source", "src", "txt",
})
SPLIT_KEY_WORDS = frozenset({"split", "subset", "partition"})
# Calls that turn a config value into a path or an object, besides callees named like data: paths, and the
# builders of config-driven code (`DATASETS.build(cfg.data.test)`, `build_from_cfg`, Hydra's `instantiate`).
CONFIG_CONSUMERS = frozenset({"join", "joinpath", "Path", "open", "build", "build_from_cfg", "instantiate", "call",
                              "create", "make", "from_config", "from_cfg"})


def key_words(key: str) -> list[str]:
    """`test_dataroot_gt` -> [test, dataroot, gt]; `testDir` -> [test, dir]; `val2` -> [val]."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1_\2", key)
    return [w for w in re.split(r"[^a-zA-Z]+", spaced.lower()) if w]


def config_data_key(key: str) -> bool:
    """Could this config key name data or a split (`test`, `data_root`, `val_dir`, `testset`), not a setting
    (`lr`, `batch_size`)?"""
    words = key_words(key)
    return any(w in _DATA_KEY_WORDS or w.startswith(("test", "eval", "holdout", "heldout"))
               or w.endswith(("set", "sets", "dir", "root", "path", "data", "split")) for w in words)


# Config keys that name where results, logs and models go, or settings (`output_dir`, `save_path`,
# `pretrained_model_path`, `drop_path_rate`): never the data a model is evaluated on.
_NOT_DATA_WORDS = frozenset({
    "output", "outputs", "out", "save", "saved", "log", "logs", "logging", "checkpoint", "checkpoints", "ckpt", "model",
    "models", "pretrained", "pretrain", "weights", "weight", "result", "results", "cache", "tmp", "temp", "export",
    "resume", "job", "exp", "experiment", "experiments", "work", "visualization", "vis", "tensorboard", "wandb", "rate",
    "size", "num", "batch", "interval", "freq", "frequency", "iter", "iters", "epoch", "epochs", "ratio", "workers",
})


def not_data_key(key: str) -> bool:
    return any(w in _NOT_DATA_WORDS for w in key_words(key))


def path_key(key: str) -> bool:
    """Does this config key name a location of data (`root`, `test_dir`, `dataroot_gt`, `ann_file`)?"""
    return any(w in _PATH_KEY_WORDS or w.endswith(("dir", "root", "path", "file", "folder", "list"))
               for w in key_words(key))


@lru_cache(maxsize=4096)
def dataset_like(short: str) -> bool:
    """Could a callee with this last name build a dataset or a loader?"""
    return bool(short[:1].isupper() or DATASET_LIKE.search(short))
