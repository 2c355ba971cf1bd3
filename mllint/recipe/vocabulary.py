"""What the card recognises besides HPARAM's API table (rules/hparam/apis.py): keyword arguments,
option dests and configurator globals that name a training choice, and the callables of augmentations,
seeding, mixed precision and data loading."""
from __future__ import annotations

import re

# name (a keyword argument, an option's dest, a module global) -> (section, label)
NAMES: dict[str, tuple[str, str]] = {}


def _add(section: str, label: str, *names: str) -> None:
    for name in names:
        NAMES[name] = (section, label)


_add("model", "architecture", "arch", "model", "model_name", "model_type", "architecture")
_add("model", "weights initialised from", "init_from")  # nanoGPT: 'scratch', 'resume' or a checkpoint: not an architecture
_add("model", "pretrained", "pretrained")
_add("model", "layers", "n_layer", "num_layers", "n_layers", "depth")
_add("model", "attention heads", "n_head", "num_heads")
_add("model", "width", "n_embd", "hidden_size", "width", "embed_dim", "d_model")
_add("optimizer", "optimiser", "opt", "optimizer", "optim", "optimizer_name")
_add("optimizer", "learning rate", "lr", "learning_rate", "base_lr", "lr0", "blr", "max_lr", "init_lr")
_add("optimizer", "base learning rate (scaled to the batch)", "lr_base")
_add("optimizer", "batch size of the base learning rate", "lr_base_size")
_add("optimizer", "learning-rate scaling rule", "lr_base_scale")
_add("optimizer", "momentum", "momentum", "sgd_momentum")
_add("optimizer", "Nesterov momentum", "nesterov")
_add("optimizer", "betas", "betas", "opt_betas")
_add("optimizer", "beta1", "beta1", "adam_beta1")
_add("optimizer", "beta2", "beta2", "adam_beta2")
_add("optimizer", "epsilon", "opt_eps", "adam_epsilon", "adam_eps")
_add("optimizer", "layer-wise lr decay", "layer_decay")
_add("schedule", "schedule", "sched", "lr_scheduler", "scheduler", "lr_scheduler_type", "lr_schedule")
_add("schedule", "learning-rate decay on", "decay_lr")
_add("data", "dataset", "dataset", "dataset_name", "data_dir", "data_path", "data_root")
_add("schedule", "minimum learning rate", "min_lr", "lr_min", "eta_min")
_add("schedule", "decay epochs", "decay_epochs", "lr_decay_epochs", "lr_step_size", "step_size")
_add("schedule", "milestones", "decay_milestones", "milestones", "lr_milestones", "schedule_milestones")
_add("schedule", "decay factor", "decay_rate", "lr_gamma", "lr_decay_rate")
_add("schedule", "decay length", "lr_decay_iters")
_add("schedule", "cooldown epochs", "cooldown_epochs")
_add("warmup", "warm-up", "warmup_epochs", "warmup_steps", "warmup_iters", "warmup_ratio", "warmup", "num_warmup_steps")
_add("warmup", "warm-up learning rate", "warmup_lr")
_add("length", "epochs", "epochs", "num_epochs", "max_epochs", "num_train_epochs", "n_epochs", "nepochs")
_add("length", "steps", "max_steps", "max_iters", "num_steps", "total_steps", "max_iter", "iterations", "num_iterations",
     "train_steps", "num_training_steps")
_add("length", "start epoch", "start_epoch")
_add("batch", "batch size", "batch_size", "per_device_train_batch_size", "train_batch_size", "bs")
_add("batch", "validation batch size", "validation_batch_size", "per_device_eval_batch_size", "eval_batch_size",
     "val_batch_size", "test_batch_size")
_add("batch", "gradient accumulation", "gradient_accumulation_steps", "accumulate_grad_batches", "grad_accum_steps",
     "accum_iter", "accum_steps", "grad_accum", "update_freq", "accumulation_steps")
_add("batch", "sequence length", "block_size", "max_seq_length", "seq_len", "max_length")
_add("augmentation", "mixup alpha", "mixup", "mixup_alpha")
_add("augmentation", "cutmix alpha", "cutmix", "cutmix_alpha")
_add("augmentation", "mixup probability", "mixup_prob")
_add("augmentation", "mixup switch probability", "mixup_switch_prob")
_add("augmentation", "mixup off epoch", "mixup_off_epoch")
_add("augmentation", "auto-augment policy", "aa", "auto_augment", "autoaugment", "randaugment", "rand_augment")
_add("augmentation", "random erasing probability", "reprob", "re_prob", "random_erasing", "erase_prob")
_add("augmentation", "random erasing mode", "remode", "re_mode")
_add("augmentation", "random erasing count", "recount", "re_count")
_add("augmentation", "repeated augmentation", "aug_repeats", "repeated_aug", "num_aug_repeats")
_add("augmentation", "colour jitter", "color_jitter", "colour_jitter")
_add("augmentation", "random-resized-crop scale", "scale")
_add("augmentation", "horizontal flip", "hflip")
_add("augmentation", "vertical flip", "vflip")
_add("augmentation", "augmentation splits", "aug_splits")
_add("augmentation", "JSD loss", "jsd_loss")
_add("regularisation", "weight decay", "weight_decay", "wd")
_add("regularisation", "label smoothing", "smoothing", "label_smoothing", "label_smoothing_factor", "label_smooth")
_add("regularisation", "dropout", "drop", "dropout", "drop_rate", "dropout_rate", "hidden_dropout_prob", "attn_drop_rate",
     "attention_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop")
_add("regularisation", "drop-path (stochastic depth)", "drop_path", "drop_path_rate", "stochastic_depth", "stochastic_depth_prob")
_add("regularisation", "DropBlock", "drop_block", "drop_block_rate")
_add("regularisation", "bce loss", "bce_loss")
_add("ema", "EMA", "model_ema", "ema", "use_ema", "ema_enabled")
_add("ema", "EMA decay", "model_ema_decay", "ema_decay")
_add("ema", "SWA", "swa", "use_swa", "swa_start", "swa_lr")
_add("precision", "mixed precision", "amp", "use_amp", "fp16", "bf16", "precision", "mixed_precision", "amp_dtype",
     "half", "dtype", "apex_amp", "native_amp")
_add("precision", "torch.compile", "compile", "torchcompile")
_add("clipping", "gradient clipping", "clip_grad", "grad_clip", "gradient_clip_val", "max_grad_norm", "clip_grad_norm",
     "clip_value", "clip")
_add("clipping", "clipping mode", "clip_mode", "gradient_clip_algorithm")
_add("seed", "seed", "seed", "random_seed", "manual_seed", "data_seed")
_add("evaluation", "evaluation interval", "eval_interval", "eval_every", "val_check_interval", "eval_steps",
     "check_val_every_n_epoch", "evaluation_strategy", "eval_strategy")
_add("evaluation", "evaluation iterations", "eval_iters")
_add("evaluation", "test-time augmentation", "tta")
_add("evaluation", "evaluation metric", "eval_metric", "metric_for_best_model", "monitor")


def name_field(name: str) -> tuple[str, str] | None:
    return NAMES.get(name.lstrip("-").replace("-", "_").lower())


# The last part of a callee's qualified name -> (section, label); the root must be one of these libraries.
AUG_LIBRARIES = ("torchvision", "timm", "albumentations", "kornia", "monai", "torchaudio")
AUGMENTATIONS = {
    "AutoAugment": "AutoAugment", "RandAugment": "RandAugment", "TrivialAugmentWide": "TrivialAugment",
    "AugMix": "AugMix", "RandomErasing": "random erasing", "RandomResizedCrop": "random resized crop",
    "RandomHorizontalFlip": "horizontal flip", "RandomVerticalFlip": "vertical flip", "RandomCrop": "random crop",
    "ColorJitter": "colour jitter", "RandomRotation": "random rotation", "RandomAffine": "random affine",
    "GaussianBlur": "Gaussian blur", "RandomGrayscale": "random greyscale", "rand_augment_transform": "RandAugment",
    "auto_augment_transform": "AutoAugment", "augment_and_mix_transform": "AugMix", "RepeatAugSampler":
    "repeated augmentation", "create_transform": "timm transform", "transforms_imagenet_train": "timm train transform",
    "CutMix": "CutMix", "MixUp": "MixUp", "Mixup": "Mixup / CutMix", "FastCollateMixup": "Mixup / CutMix (collate)",
}
SEED_CALLS = ("torch.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all", "random.seed",
              "numpy.random.seed", "numpy.random.default_rng", "torch.random.manual_seed", "tensorflow.random.set_seed")
SEED_FUNCTION = re.compile(r"(^|_)(seed_everything|set_seed|set_random_seed|random_seed|seed_all|fix_seed|setup_seed|init_seeds?)$")
AMP_CALLS = {"autocast": "autocast", "GradScaler": "gradient scaler", "NativeScaler": "gradient scaler (timm)",
             "ApexScaler": "gradient scaler (apex)", "initialize": "apex amp"}
EMA_CALLS = {"AveragedModel": "averaged model (EMA/SWA)", "SWALR": "SWA schedule", "ModelEma": "EMA",
             "ModelEmaV2": "EMA", "ModelEmaV3": "EMA", "ExponentialMovingAverage": "EMA", "EMA": "EMA"}
MODEL_NAMES = re.compile(r"^(model|net|network|backbone|classifier|encoder|student|teacher|generator|discriminator|"
                         r"model_without_ddp|raw_model)$")
MODEL_WRAPPERS = re.compile(r"(DistributedDataParallel|DataParallel|compile|to|cuda|half|float|convert_sync_batchnorm|"
                            r"channels_last|set_layer_config|load_checkpoint|FSDP|script|trace|deepcopy|unwrap|"
                            r"module|prepare|setup|load_state_dict|convert)$")
TRAINERS = {"Trainer": "Trainer", "Seq2SeqTrainer": "Trainer", "SFTTrainer": "Trainer"}
DATA_CALLS = re.compile(r"(DataLoader|Dataset|ImageFolder|ImageNet|CIFAR10|CIFAR100|MNIST|FashionMNIST|memmap|"
                        r"load_dataset|create_dataset|[Ll]oader|random_split|Subset|read_csv)$")
SPLIT_WORDS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
               "dev": "val", "test": "test", "testing": "test", "eval": "val", "trainval": "train+val"}
EVAL_FUNCTIONS = re.compile(r"^(validate|validation|evaluate|evaluation|eval|test|estimate_loss|run_eval|"
                            r"evaluate_model|val_one_epoch|eval_one_epoch|test_epoch|val_epoch|validation_step|test_step)$")
METRICS = re.compile(r"^(accuracy|top_k_accuracy|f1_score|accuracy_score|roc_auc_score|precision_score|"
                     r"recall_score|perplexity|psnr|ssim|bleu|compute_metrics|mean_squared_error|mAP|map)$", re.I)
