"""Training and inference loops for a student backbone (:class:`~dsl_plugin.student.ProdLDANetwork` or another
backbone of :mod:`._backbones`: anything with ``forward``, ``loss`` and ``theta``).

The loops read rows from a batch source (:mod:`._batches`): tensors in memory (20k x 2000 soft labels is
160 MB), or rows computed per batch, e.g. streamed from the teacher cache. The training loop draws a shuffled
index permutation per epoch and asks the source for each batch's rows; there is no DataLoader.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..validation import real
from ._batches import BatchSource, as_source
from ._network import ProdLDANetwork, topic_overlap

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
    diversity_weight: float = 0.0
    show_progress: bool = True


def train_network(net: ProdLDANetwork, inputs: BatchSource | torch.Tensor, targets: torch.Tensor | None = None,
                  cfg: TrainConfig | None = None, generator: torch.Generator | None = None,
                  loss: Callable[[torch.nn.Module, dict, torch.Tensor], torch.Tensor] | None = None) -> list[float]:
    """Train ``net`` in place; returns the mean per-document loss of each epoch.

    Args:
        net: the network; ``net(x)`` returns the dictionary ``loss`` reads.
        inputs: a :class:`~dsl_plugin.student.BatchSource`, or the input tensor (N x input size) with ``targets``.
        targets: the target tensor when ``inputs`` is a tensor.
        cfg: optimisation settings (default :class:`TrainConfig`).
        generator: draws the batch order (``torch.randperm`` per epoch); the same seed gives the same batches
            from every source.
        loss: ``loss(net, net(x), y)`` -> per-document loss; default: the backbone's own ``net.loss(out, y, cfg)``
            (the DSL loss with ``cfg``'s weight, loss, KL direction and student temperature, plus the backbone's
            regulariser), plus, with ``cfg.diversity_weight`` > 0, that weight x :func:`topic_overlap` of the
            backbone's ``beta`` (a batch term added to every document's loss, like ECRTM's regulariser).

    A final batch of a single document is merged into the previous batch (BatchNorm needs 2+ rows).
    Each batch costs a few milliseconds of operator dispatch for this small network, so the loop is kept
    free of per-batch extras (no DataLoader, no collation; an in-memory source is sliced directly).
    """
    source = as_source(inputs, targets)
    cfg = cfg or TrainConfig()
    generator = generator if generator is not None else torch.Generator()
    real(0)("diversity_weight", cfg.diversity_weight)
    if cfg.diversity_weight > 0 and loss is not None:
        raise ValueError("diversity_weight > 0 applies to the backbone's own loss: with loss=..., add the penalty "
                         "(topic_overlap) to it and leave diversity_weight at 0")
    if cfg.diversity_weight > 0 and not net.beta.requires_grad:
        raise ValueError(f"diversity_weight > 0 needs a backbone whose beta carries a gradient ({type(net).__name__}'s "
                         "does not)")
    if loss is None:
        def loss(net, out, y):
            per_doc = net.loss(out, y, cfg)
            return per_doc + cfg.diversity_weight * topic_overlap(net.beta) if cfg.diversity_weight > 0 else per_doc
    n = len(source)
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
    return _train_epochs(net, source, loss, cfg, generator, opt, sched, bs, n_batches)


def _train_epochs(net, source, loss_fn, cfg, generator, opt, sched, bs, n_batches) -> list[float]:
    from tqdm.auto import tqdm

    n = len(source)
    history: list[float] = []
    net.train()
    bar = tqdm(range(cfg.num_epochs), desc="DSL training", unit="epoch", disable=not cfg.show_progress)
    for _ in bar:
        perm = torch.randperm(n, generator=generator)
        total = 0.0
        for b in range(n_batches):
            idx = perm[b * bs:] if b == n_batches - 1 else perm[b * bs:(b + 1) * bs]
            x, y = source.batch(idx)
            loss = loss_fn(net, net(x), y).sum()
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
def infer_theta(net: ProdLDANetwork, inputs: BatchSource | torch.Tensor, num_samples: int,
                generator: torch.Generator, batch_size: int = 4096, estimate: str = "samples") -> np.ndarray:
    """Document-topic matrix (N x K) in eval mode: the mean of ``num_samples`` posterior samples
    (``estimate="samples"``, the paper) or the softmax of the posterior mean (``"mean"``, deterministic).
    ``inputs``: a tensor, or a :class:`~dsl_plugin.student.BatchSource` read in blocks of ``batch_size`` rows."""
    net.eval()
    if estimate not in ("samples", "mean"):
        raise ValueError(f"estimate must be 'samples' or 'mean', got {estimate!r}")
    source = as_source(inputs)
    n = len(source)
    theta = None
    with torch.no_grad():
        for i in range(0, n, batch_size):
            x = source.inputs(slice(i, i + batch_size))
            th = net.theta(x, num_samples, generator, estimate=estimate)
            if theta is None:
                theta = np.empty((n, th.shape[1]), dtype=th.cpu().numpy().dtype)
            theta[i:i + len(th)] = th.cpu().numpy()
    if theta is None:
        raise ValueError("no rows to infer")
    return theta
