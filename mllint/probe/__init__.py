"""The runtime probe (PRODUCT §6): run a training script for a few optimiser steps under instrumentation and
confirm or refute the dynamic findings.

Layout: `cli` (the click command), `runner` (subprocess, process group, timeout), `bootstrap` and `instrument`
(run inside the user's interpreter; the only modules that import torch), `synthetic` (torchvision datasets
replaced by deterministic tensors), `verdicts` (evidence -> findings, merge with the static findings),
`stats` (--seeds), `report` (text, JSON, other formats, --plot). Nothing in the parent process imports torch.
"""
