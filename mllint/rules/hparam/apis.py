"""Where hyper-parameters sit in library APIs, with each library's default.

An `Api` lists a callable's parameters in signature order; a `Slot` with a label is a hyper-parameter
(`lr` of SGD is "SGD learning rate"), a slot without one is not (`params`, `optimizer`, `reduction`).
`REQUIRED` marks a parameter without a default. The torch part of this table is checked against the
installed torch's signatures by a test of the probe extra (tests/test_hparam.py), so it cannot drift.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...core.origins import spelling

REQUIRED = "<required>"


@dataclass(frozen=True)
class Slot:
    name: str
    label: str = ""  # what it sets ("learning rate"); empty: not a hyper-parameter
    default: object = REQUIRED
    concept: str = ""  # the option names that would set it (HPARAM002): "lr", "momentum", ...
    keyword_only: bool = False


@dataclass(frozen=True)
class Api:
    qualified: str  # canonical dotted name (see canonical())
    short: str  # how a message names it: "SGD"
    slots: tuple[Slot, ...]

    def slot(self, name: str) -> Slot | None:
        for slot in self.slots:
            if slot.name == name:
                return slot
        return None


def _s(name: str, label: str = "", default: object = REQUIRED, concept: str = "", kw: bool = False) -> Slot:
    return Slot(name, label, default, concept or (name if label else ""), kw)


P = _s("params")
OPT = _s("optimizer")
LR = "learning rate"
BETAS = (0.9, 0.999)


def _lr(default: object) -> Slot:
    return _s("lr", LR, default, "lr")


def _wd(default: object = 0) -> Slot:
    return _s("weight_decay", "weight decay", default, "weight_decay")


def _eps(default: object) -> Slot:
    return _s("eps", "epsilon", default, "eps")


_TORCH_OPTIM = [
    Api("torch.optim.SGD", "SGD", (P, _lr(1e-3), _s("momentum", "momentum", 0), _s("dampening", "dampening", 0), _wd(),
                                   _s("nesterov", "", False))),
    Api("torch.optim.Adam", "Adam", (P, _lr(1e-3), _s("betas", "betas", BETAS), _eps(1e-8), _wd())),
    Api("torch.optim.AdamW", "AdamW", (P, _lr(1e-3), _s("betas", "betas", BETAS), _eps(1e-8), _wd(1e-2))),
    Api("torch.optim.Adamax", "Adamax", (P, _lr(2e-3), _s("betas", "betas", BETAS), _eps(1e-8), _wd())),
    Api("torch.optim.NAdam", "NAdam", (P, _lr(2e-3), _s("betas", "betas", BETAS), _eps(1e-8), _wd(),
                                       _s("momentum_decay", "momentum decay", 4e-3))),
    Api("torch.optim.RAdam", "RAdam", (P, _lr(1e-3), _s("betas", "betas", BETAS), _eps(1e-8), _wd())),
    Api("torch.optim.RMSprop", "RMSprop", (P, _lr(1e-2), _s("alpha", "smoothing constant", 0.99), _eps(1e-8), _wd(),
                                           _s("momentum", "momentum", 0))),
    Api("torch.optim.Adagrad", "Adagrad", (P, _lr(1e-2), _s("lr_decay", "learning-rate decay", 0), _wd(),
                                           _s("initial_accumulator_value", "initial accumulator", 0), _eps(1e-10))),
    Api("torch.optim.Adadelta", "Adadelta", (P, _lr(1.0), _s("rho", "rho", 0.9), _eps(1e-6), _wd())),
    Api("torch.optim.ASGD", "ASGD", (P, _lr(1e-2), _s("lambd", "decay term", 1e-4), _s("alpha", "eta power", 0.75),
                                     _s("t0", "averaging start", 1e6), _wd())),
    Api("torch.optim.Rprop", "Rprop", (P, _lr(1e-2), _s("etas", "step multipliers", (0.5, 1.2)),
                                       _s("step_sizes", "step-size bounds", (1e-6, 50)))),
    Api("torch.optim.SparseAdam", "SparseAdam", (P, _lr(1e-3), _s("betas", "betas", BETAS), _eps(1e-8))),
    Api("torch.optim.LBFGS", "LBFGS", (P, _lr(1), _s("max_iter", "iterations per step", 20))),
]

_TORCH_SCHED = [
    Api("torch.optim.lr_scheduler.LambdaLR", "LambdaLR", (OPT, _s("lr_lambda"))),
    Api("torch.optim.lr_scheduler.MultiplicativeLR", "MultiplicativeLR", (OPT, _s("lr_lambda"))),
    Api("torch.optim.lr_scheduler.StepLR", "StepLR", (OPT, _s("step_size", "step size", concept="step_size"),
                                                      _s("gamma", "decay factor", 0.1))),
    Api("torch.optim.lr_scheduler.MultiStepLR", "MultiStepLR", (OPT, _s("milestones", "milestones"),
                                                                _s("gamma", "decay factor", 0.1))),
    Api("torch.optim.lr_scheduler.ConstantLR", "ConstantLR", (OPT, _s("factor", "factor", 1 / 3),
                                                              _s("total_iters", "length", 5, "warmup"))),
    Api("torch.optim.lr_scheduler.LinearLR", "LinearLR", (OPT, _s("start_factor", "start factor", 1 / 3),
                                                          _s("end_factor", "end factor", 1.0),
                                                          _s("total_iters", "length", 5, "warmup"))),
    Api("torch.optim.lr_scheduler.ExponentialLR", "ExponentialLR", (OPT, _s("gamma", "decay factor"))),
    Api("torch.optim.lr_scheduler.SequentialLR", "SequentialLR", (OPT, _s("schedulers"), _s("milestones", "milestones"))),
    Api("torch.optim.lr_scheduler.PolynomialLR", "PolynomialLR", (OPT, _s("total_iters", "length", 5, "epochs"),
                                                                  _s("power", "power", 1.0))),
    Api("torch.optim.lr_scheduler.CosineAnnealingLR", "CosineAnnealingLR", (OPT, _s("T_max", "period T_max", concept="epochs"),
                                                                            _s("eta_min", "minimum learning rate", 0.0, "min_lr"))),
    Api("torch.optim.lr_scheduler.ReduceLROnPlateau", "ReduceLROnPlateau", (
        OPT, _s("mode"), _s("factor", "decay factor", 0.1, "gamma"), _s("patience", "patience", 10),
        _s("threshold", "threshold", 1e-4), _s("threshold_mode"), _s("cooldown", "cooldown", 0),
        _s("min_lr", "minimum learning rate", 0), _eps(1e-8))),
    Api("torch.optim.lr_scheduler.CyclicLR", "CyclicLR", (
        OPT, _s("base_lr", "base learning rate", concept="lr"), _s("max_lr", "maximum learning rate", concept="lr"),
        _s("step_size_up", "step size up", 2000), _s("step_size_down", "step size down", None), _s("mode"),
        _s("gamma", "decay factor", 1.0), _s("scale_fn"), _s("scale_mode"), _s("cycle_momentum", "", True),
        _s("base_momentum", "base momentum", 0.8), _s("max_momentum", "maximum momentum", 0.9))),
    Api("torch.optim.lr_scheduler.OneCycleLR", "OneCycleLR", (
        OPT, _s("max_lr", "maximum learning rate", concept="lr"), _s("total_steps"), _s("epochs", "", None),
        _s("steps_per_epoch"), _s("pct_start", "warm-up fraction", 0.3, "warmup"), _s("anneal_strategy"),
        _s("cycle_momentum", "", True), _s("base_momentum", "base momentum", 0.85),
        _s("max_momentum", "maximum momentum", 0.95), _s("div_factor", "initial division factor", 25.0),
        _s("final_div_factor", "final division factor", 1e4))),
    Api("torch.optim.lr_scheduler.CosineAnnealingWarmRestarts", "CosineAnnealingWarmRestarts", (
        OPT, _s("T_0", "first period T_0", concept="epochs"), _s("T_mult", "period multiplier", 1),
        _s("eta_min", "minimum learning rate", 0.0, "min_lr"))),
    Api("torch.optim.swa_utils.SWALR", "SWALR", (OPT, _s("swa_lr", "SWA learning rate", concept="lr"),
                                                 _s("anneal_epochs", "annealing epochs", 10))),
]

_W = _s("weight", "class weights", None, "class_weights")
_TORCH_LOSS = [
    Api("torch.nn.CrossEntropyLoss", "CrossEntropyLoss", (_W, _s("size_average"), _s("ignore_index"), _s("reduce"),
                                                          _s("reduction"), _s("label_smoothing", "label smoothing", 0.0))),
    Api("torch.nn.NLLLoss", "NLLLoss", (_W,)),
    Api("torch.nn.BCELoss", "BCELoss", (_W,)),
    Api("torch.nn.BCEWithLogitsLoss", "BCEWithLogitsLoss", (_W, _s("size_average"), _s("reduce"), _s("reduction"),
                                                            _s("pos_weight", "positive-class weight", None, "class_weights"))),
    Api("torch.nn.MarginRankingLoss", "MarginRankingLoss", (_s("margin", "margin", 0.0),)),
    Api("torch.nn.HingeEmbeddingLoss", "HingeEmbeddingLoss", (_s("margin", "margin", 1.0),)),
    Api("torch.nn.CosineEmbeddingLoss", "CosineEmbeddingLoss", (_s("margin", "margin", 0.0),)),
    Api("torch.nn.MultiMarginLoss", "MultiMarginLoss", (_s("p"), _s("margin", "margin", 1.0), _W)),
    Api("torch.nn.TripletMarginLoss", "TripletMarginLoss", (_s("margin", "margin", 1.0),)),
    Api("torch.nn.TripletMarginWithDistanceLoss", "TripletMarginWithDistanceLoss",
        (_s("distance_function", kw=True), _s("margin", "margin", 1.0, kw=True))),
    Api("torch.nn.SmoothL1Loss", "SmoothL1Loss", (_s("size_average"), _s("reduce"), _s("reduction"),
                                                  _s("beta", "transition point beta", 1.0))),
    Api("torch.nn.HuberLoss", "HuberLoss", (_s("reduction"), _s("delta", "delta", 1.0))),
    Api("torch.nn.functional.cross_entropy", "cross_entropy", (
        _s("input"), _s("target"), _W, _s("size_average"), _s("ignore_index"), _s("reduce"), _s("reduction"),
        _s("label_smoothing", "label smoothing", 0.0))),
    Api("torch.nn.functional.smooth_l1_loss", "smooth_l1_loss", (
        _s("input"), _s("target"), _s("size_average"), _s("reduce"), _s("reduction"), _s("beta", "transition point beta", 1.0))),
    Api("torch.nn.functional.huber_loss", "huber_loss", (_s("input"), _s("target"), _s("reduction"), _s("delta", "delta", 1.0))),
    Api("torch.nn.functional.margin_ranking_loss", "margin_ranking_loss",
        (_s("input1"), _s("input2"), _s("target"), _s("margin", "margin", 0.0))),
    Api("torch.nn.functional.triplet_margin_loss", "triplet_margin_loss",
        (_s("anchor"), _s("positive"), _s("negative"), _s("margin", "margin", 1.0))),
]

_TORCH_OTHER = [
    Api("torch.nn.utils.clip_grad_norm_", "clip_grad_norm_", (_s("parameters"), _s("max_norm", "maximum gradient norm", concept="clip"))),
    Api("torch.nn.utils.clip_grad_value_", "clip_grad_value_", (_s("parameters"), _s("clip_value", "gradient clip value", concept="clip"))),
    Api("torch.optim.swa_utils.get_ema_multi_avg_fn", "get_ema_multi_avg_fn", (_s("decay", "EMA decay", 0.999, "ema_decay"),)),
    Api("torch.optim.swa_utils.get_ema_avg_fn", "get_ema_avg_fn", (_s("decay", "EMA decay", 0.999, "ema_decay"),)),
]
TORCH_APIS = _TORCH_OPTIM + _TORCH_SCHED + _TORCH_LOSS + _TORCH_OTHER

_OTHER = [
    Api("timm.Mixup", "Mixup", (_s("mixup_alpha", "mixup alpha", 1.0, "mixup"), _s("cutmix_alpha", "cutmix alpha", 0.0, "cutmix"),
                                _s("cutmix_minmax", "cutmix bounds", None), _s("prob", "mixup probability", 1.0),
                                _s("switch_prob", "cutmix switch probability", 0.5), _s("mode"), _s("correct_lam"),
                                _s("label_smoothing", "label smoothing", 0.1, "smoothing"))),
    Api("timm.ModelEma", "ModelEma", (_s("model"), _s("decay", "EMA decay", 0.9999, "ema_decay"))),
    Api("timm.ModelEmaV2", "ModelEmaV2", (_s("model"), _s("decay", "EMA decay", 0.9999, "ema_decay"))),
    Api("timm.ModelEmaV3", "ModelEmaV3", (_s("model"), _s("decay", "EMA decay", 0.9999, "ema_decay"),
                                          _s("min_decay", "minimum EMA decay", 0.0))),
    Api("timm.LabelSmoothingCrossEntropy", "LabelSmoothingCrossEntropy", (_s("smoothing", "label smoothing", 0.1),)),
    Api("timm.create_optimizer_v2", "create_optimizer_v2", (
        _s("model_or_params"), _s("opt"), _lr(None), _wd(0.0), _s("momentum", "momentum", 0.9))),
    Api("timm.create_scheduler_v2", "create_scheduler_v2", (
        OPT, _s("sched"), _s("num_epochs", "epochs", 300, "epochs"), _s("decay_epochs", "decay epochs", 90),
        _s("decay_milestones", "milestones", (90, 180, 270), "milestones"), _s("cooldown_epochs", "cooldown epochs", 0),
        _s("patience_epochs", "patience", 10), _s("decay_rate", "decay factor", 0.1, "gamma"),
        _s("min_lr", "minimum learning rate", 0), _s("warmup_lr", "warm-up learning rate", 1e-5),
        _s("warmup_epochs", "warm-up epochs", 0, "warmup"))),
    Api("timm.CosineLRScheduler", "CosineLRScheduler", (
        OPT, _s("t_initial", "period", concept="epochs"), _s("lr_min", "minimum learning rate", 0.0, "min_lr"),
        _s("cycle_mul", "cycle multiplier", 1.0), _s("cycle_decay", "cycle decay", 1.0), _s("cycle_limit", "cycles", 1),
        _s("warmup_t", "warm-up length", 0, "warmup"), _s("warmup_lr_init", "warm-up initial learning rate", 0))),
    Api("timm.StepLRScheduler", "StepLRScheduler", (
        OPT, _s("decay_t", "decay interval", concept="step_size"), _s("decay_rate", "decay factor", 1.0, "gamma"),
        _s("warmup_t", "warm-up length", 0, "warmup"), _s("warmup_lr_init", "warm-up initial learning rate", 0))),
    Api("torchvision.MixUp", "MixUp", (_s("alpha", "mixup alpha", 1.0, "mixup", kw=True),)),
    Api("torchvision.CutMix", "CutMix", (_s("alpha", "cutmix alpha", 1.0, "cutmix", kw=True),)),
    Api("numpy.random.beta", "np.random.beta", (_s("a", "alpha (mixup/cutmix)", concept="mixup"),
                                         _s("b", "beta (mixup/cutmix)", concept="mixup"))),
    Api("torch_ema.ExponentialMovingAverage", "ExponentialMovingAverage",
        (_s("parameters"), _s("decay", "EMA decay", concept="ema_decay"))),
    Api("transformers.get_linear_schedule_with_warmup", "get_linear_schedule_with_warmup",
        (OPT, _s("num_warmup_steps", "warm-up steps", concept="warmup"), _s("num_training_steps"))),
    Api("transformers.get_cosine_schedule_with_warmup", "get_cosine_schedule_with_warmup",
        (OPT, _s("num_warmup_steps", "warm-up steps", concept="warmup"), _s("num_training_steps"),
         _s("num_cycles", "cycles", 0.5))),
    Api("apex.parallel.LARC.LARC", "LARC", (OPT, _s("trust_coefficient", "LARS trust coefficient", 0.02),
                                           _s("clip"), _eps(1e-8))),
    Api("transformers.AdamW", "AdamW", (P, _lr(1e-3), _s("betas", "betas", BETAS), _eps(1e-6), _wd(0.0))),
]
_HF_ARGS = (
    _s("output_dir"),
    _s("learning_rate", LR, 5e-5, "lr", kw=True), _s("weight_decay", "weight decay", 0.0, kw=True),
    _s("adam_beta1", "Adam beta1", 0.9, "betas", kw=True), _s("adam_beta2", "Adam beta2", 0.999, "betas", kw=True),
    _s("adam_epsilon", "Adam epsilon", 1e-8, "eps", kw=True), _s("max_grad_norm", "maximum gradient norm", 1.0, "clip", kw=True),
    _s("num_train_epochs", "epochs", 3.0, "epochs", kw=True), _s("warmup_ratio", "warm-up fraction", 0.0, "warmup", kw=True),
    _s("warmup_steps", "warm-up steps", 0, "warmup", kw=True),
    _s("label_smoothing_factor", "label smoothing", 0.0, "smoothing", kw=True),
)
_OTHER += [Api("transformers.TrainingArguments", "TrainingArguments", _HF_ARGS),
           Api("transformers.Seq2SeqTrainingArguments", "Seq2SeqTrainingArguments", _HF_ARGS)]

APIS: dict[str, Api] = {api.qualified: api for api in TORCH_APIS + _OTHER}
_BY_LAST: dict[tuple[str, str], Api] = {}
for _api in APIS.values():
    _BY_LAST[(_api.qualified.split(".", 1)[0], _api.qualified.rsplit(".", 1)[-1])] = _api
_TORCH_FAMILIES = {"torch.optim.": ("optim",), "torch.nn.": ("nn",)}


def canonical(qualified: str | None) -> Api | None:
    """The API a qualified name calls, whatever submodule it was imported from (`torch.optim.sgd.SGD`,
    `timm.utils.model_ema.ModelEmaV2`, `torchvision.transforms.v2.MixUp`, `np.random.beta`)."""
    if not qualified:
        return None
    api = APIS.get(qualified)
    if api is not None:
        return api
    root, _, rest = qualified.partition(".")
    last = qualified.rsplit(".", 1)[-1]
    api = _BY_LAST.get((root, last))
    if api is None:
        return None
    if root == "torch":  # torch.optim.X / torch.nn.X must stay in their family (not torch.X)
        family = api.qualified.split(".")[1]
        if rest.split(".", 1)[0] != family:
            return None
        if api.qualified.startswith("torch.nn.functional.") and ".functional." not in qualified:
            return None
    if root == "numpy" and "random" not in qualified:
        return None
    return api


# Option names (normalised) that set each concept: a literal for a concept the command line also sets is
# an override (HPARAM002).
CONCEPT_OPTIONS: dict[str, frozenset[str]] = {
    "lr": frozenset({"lr", "learning_rate", "base_lr", "lr0", "init_lr", "initial_lr", "blr", "max_lr", "learningrate"}),
    "momentum": frozenset({"momentum", "sgd_momentum"}),
    "weight_decay": frozenset({"wd", "weight_decay", "weightdecay"}),
    "betas": frozenset({"betas", "beta1", "beta2", "opt_betas", "adam_beta1", "adam_beta2"}),
    "eps": frozenset({"eps", "opt_eps", "adam_eps", "adam_epsilon"}),
    "gamma": frozenset({"gamma", "lr_gamma", "lr_decay", "decay_rate", "lr_decay_rate", "lr_factor"}),
    "milestones": frozenset({"milestones", "lr_milestones", "lr_steps", "schedule", "decay_milestones"}),
    "step_size": frozenset({"step_size", "lr_step", "lr_step_size", "decay_epochs", "lr_decay_epochs"}),
    "label_smoothing": frozenset({"label_smoothing", "smoothing", "smooth", "label_smooth"}),
    "smoothing": frozenset({"label_smoothing", "smoothing", "smooth", "label_smooth"}),
    "clip": frozenset({"clip", "clip_grad", "grad_clip", "max_norm", "clip_grad_norm", "max_grad_norm", "clip_value", "gradient_clip_val"}),
    "ema_decay": frozenset({"ema_decay", "model_ema_decay", "ema"}),
    "mixup": frozenset({"mixup", "mixup_alpha"}),
    "cutmix": frozenset({"cutmix", "cutmix_alpha"}),
    "warmup": frozenset({"warmup", "warmup_epochs", "warmup_steps", "warmup_iters", "warmup_ratio", "warm"}),
    "margin": frozenset({"margin"}),
    "min_lr": frozenset({"min_lr", "eta_min", "lr_min"}),
}
OPTION_WORDS: frozenset[str] = frozenset().union(*CONCEPT_OPTIONS.values())

# What a config key's name sets (HPARAM's option concepts; names too generic for a key left out).
_CONCEPT_KEYS = {spelling(name): concept for concept, names in CONCEPT_OPTIONS.items()
                 for name in names if name not in ("schedule", "ema", "warm", "smooth", "margin")}
CONCEPT_LABELS = {"lr": "learning rate", "momentum": "momentum", "weight_decay": "weight decay", "betas": "Adam betas",
                  "eps": "optimiser epsilon", "gamma": "decay factor", "milestones": "decay milestones",
                  "step_size": "decay step", "label_smoothing": "label smoothing", "smoothing": "label smoothing",
                  "clip": "gradient clipping", "ema_decay": "EMA decay", "mixup": "mixup alpha",
                  "cutmix": "cutmix alpha", "warmup": "warm-up length", "min_lr": "minimum learning rate"}


def concept_of(key: str) -> str | None:
    """The hyper-parameter a config key sets, by its name: `BASE_LR` -> `lr`, `weightDecay` -> `weight_decay`."""
    return _CONCEPT_KEYS.get(spelling(key))


def hparam_key(key: str) -> bool:
    return spelling(key) in _CONCEPT_KEYS


