"""Training and inference loops for a student backbone (:class:`~dsl_plugin.student.ProdLDANetwork` or another
backbone of :mod:`._backbones`: anything with ``forward``, ``loss`` and ``theta``) on in-memory tensors.

Inputs and targets live in memory as float32 tensors (20k x 2000 soft labels is 160 MB), so the
loop slices shuffled index batches directly instead of going through a DataLoader.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from ._network import ProdLDANetwork

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Optimisation settings (defaults: the paper / ProdLDA baselines)."""

    batch_size: int = 64
    num_epochs: int = 100
    lr: float = 2e-3
    betas: tuple[float, float] = (0.99, 0.99)
    lr_scheduler: str | None = "cosine"
    weight: float = 1e3
    loss: str = "kl"
    kl_direction: str = "target_model"
    student_temperature: float = 1.0
    show_progress: bool = True
    num_threads: int | None = None  # torch intra-op threads during training (None: leave torch's setting)


def train_network(net: ProdLDANetwork, inputs: torch.Tensor, targets: torch.Tensor, cfg: TrainConfig,
                  generator: torch.Generator) -> list[float]:
    """Train ``net`` in place; returns the mean per-document loss of each epoch.

    A final batch of a single document is merged into the previous batch (BatchNorm needs 2+ rows).
    Each batch costs a few milliseconds of operator dispatch for this small network, so the loop is kept
    free of per-batch extras (no DataLoader, no collation; soft targets are precomputed by the caller).
    ``cfg.num_threads=1`` avoids OpenMP synchronisation costs on busy or 2-core machines.
    """
    n = inputs.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 documents to train (BatchNorm), got {n}")
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=cfg.betas)
    sched = None
    if cfg.lr_scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, cfg.num_epochs))
    elif cfg.lr_scheduler not in (None, "none"):
        raise ValueError(f"lr_scheduler must be 'cosine' or None, got {cfg.lr_scheduler!r}")
    bs = max(2, int(cfg.batch_size))
    n_batches = max(1, n // bs) if n % bs == 1 else math.ceil(n / bs)
    previous_threads = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(int(cfg.num_threads))
    try:
        return _train_epochs(net, inputs, targets, cfg, generator, opt, sched, bs, n_batches)
    finally:
        torch.set_num_threads(previous_threads)


def _train_epochs(net, inputs, targets, cfg, generator, opt, sched, bs, n_batches) -> list[float]:
    from tqdm.auto import tqdm

    n = inputs.shape[0]
    history: list[float] = []
    net.train()
    bar = tqdm(range(cfg.num_epochs), desc="DSL training", unit="epoch", disable=not cfg.show_progress)
    for _ in bar:
        perm = torch.randperm(n, generator=generator)
        total = 0.0
        for b in range(n_batches):
            idx = perm[b * bs:] if b == n_batches - 1 else perm[b * bs:(b + 1) * bs]
            out = net(inputs[idx])
            loss = net.loss(out, targets[idx], cfg).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        if sched is not None:
            sched.step()
        history.append(total / n)
        if not math.isfinite(history[-1]):
            raise FloatingPointError("training diverged (non-finite loss); try a lower lr or weight")
        bar.set_postfix(loss=f"{history[-1]:.4g}")
    net.eval()
    return history


@torch.no_grad()
def infer_theta(net: ProdLDANetwork, inputs: torch.Tensor, num_samples: int, generator: torch.Generator,
                batch_size: int = 4096, estimate: str = "samples") -> np.ndarray:
    """Document-topic matrix (N x K) in eval mode: the mean of ``num_samples`` posterior samples
    (``estimate="samples"``, the paper) or the softmax of the posterior mean (``"mean"``, deterministic)."""
    net.eval()
    if estimate not in ("samples", "mean"):
        raise ValueError(f"estimate must be 'samples' or 'mean', got {estimate!r}")
    parts = []
    with torch.no_grad():
        for i in range(0, inputs.shape[0], batch_size):
            x = inputs[i:i + batch_size]
            th = net.theta(x, num_samples, generator, estimate=estimate)
            parts.append(th.cpu().numpy())
    return np.concatenate(parts, axis=0)
