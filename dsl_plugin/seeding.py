"""Seeds to random state: the one implementation used by DSL, DSLCluster and the baseline adapters."""

from __future__ import annotations

import contextlib
import random
from typing import Iterator

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (torch: every device) from ``seed``. For third-party
    models that draw from the global generators (the baselines); DSL itself uses :func:`seeded_torch`."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def generator(seed: int | None, device: str | torch.device = "cpu") -> torch.Generator:
    """A private torch generator on ``device`` (a CUDA tensor needs a CUDA generator) seeded with ``seed``;
    ``None``: a fresh random seed."""
    g = torch.Generator(device=device)
    if seed is None:
        g.seed()
    else:
        g.manual_seed(int(seed))
    return g


@contextlib.contextmanager
def seeded_torch(seed: int | None, device: str | torch.device = "cpu") -> Iterator[None]:
    """Torch's global generator (CPU, and the CUDA devices when ``device`` is CUDA) seeded with ``seed`` inside
    the block and restored after it (``torch.random.fork_rng``): the caller's random state is left as it was.
    ``None``: nothing is seeded."""
    if seed is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield
