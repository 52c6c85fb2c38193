"""Entropic optimal transport (Sinkhorn's algorithm), shared by the ECRTM and FASTopic backbones.

For a cost matrix ``C`` (n x m) and marginals ``a`` (n) and ``b`` (m), the plan is
``P = diag(u) exp(-alpha * C) diag(v)`` with ``u``, ``v`` found by alternately matching the column sums to ``b``
and the row sums to ``a`` (Cuturi 2013). Gradients flow through the iterations, as in the ECRTM and FASTopic
implementations.
"""

from __future__ import annotations

import math

import torch


def squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Pairwise squared Euclidean distances (n x m) between the rows of ``x`` and of ``y``."""
    return (x * x).sum(1, keepdim=True) + (y * y).sum(1) - 2.0 * x @ y.T


def sinkhorn(cost: torch.Tensor, log_a: torch.Tensor, log_b: torch.Tensor, alpha: float, max_iter: int = 1000,
             tol: float = 5e-3, check_every: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """The entropic transport plan between two discrete distributions.

    Scaling iterations (two matrix-vector products each, ~40x cheaper on a CPU than log-sum-exps) on a kernel
    whose scale is absorbed into log potentials every ``check_every`` iterations (Schmitzer 2016), after a first
    iteration in the log domain. Where the scaling steps would divide by vanishing sums (a column far from every row:
    the forward pass may survive, the gradient, marginal / sum^2, would not), the same iterations run in the log
    domain instead (slower, stable).

    Args:
        cost: n x m cost matrix.
        log_a, log_b: log of the row (n) and column (m) marginals.
        alpha: inverse entropic regularisation (larger: closer to the unregularised plan).
        max_iter: iterations at most.
        tol: stop when the column sums are within ``tol`` (L1) of ``b`` (the row sums are exact after every
            iteration); checked every ``check_every`` iterations.

    Returns:
        (plan P, n x m, summing to 1; the column potential ``log v`` (m), with which the rows of the plan are
        ``softmax(-alpha * cost[i] + log v)``).
    """
    log_k = -alpha * cost
    result = _scaling(log_k, log_a, log_b, max_iter, tol, check_every)
    if result is None or not (torch.isfinite(result[0]).all() and torch.isfinite(result[1]).all()):
        result = _log_domain(log_k, log_a, log_b, max_iter, tol, check_every)
    return result


#: a scaling step that divides a marginal by a sum this many times smaller (the kernel is far from balanced: its
#: gradient, marginal / sum^2, could overflow) hands the problem to the log domain
_MAX_SCALING = 1e3


def _scaling(log_k, log_a, log_b, max_iter, tol, check_every):
    """Sinkhorn by scaling iterations on absorbed kernels; None when a step rescales by more than ``_MAX_SCALING``."""
    a, b = log_a.exp(), log_b.exp()
    # the first iteration in the log domain (from u = 1): the kernel then has the right row sums and nearly the right
    # column sums, so the scaling steps start balanced
    g = log_b - torch.logsumexp(log_k, dim=0)  # log v, absorbed
    f = log_a - torch.logsumexp(log_k + g[None, :], dim=1)  # log u, absorbed
    done = 1
    while done < max_iter:
        kernel = torch.exp(log_k + f[:, None] + g[None, :])
        u, v = torch.ones_like(a), torch.ones_like(b)
        steps = min(check_every, max_iter - done)
        largest = []  # the largest rescaling of each step (checked once per block: no synchronisation per step)
        for _ in range(steps):
            v = b / (kernel.T @ u)
            u = a / (kernel @ v)
            largest.append(torch.maximum(v.detach().max(), u.detach().max()))
        done += steps
        with torch.no_grad():
            if not float(torch.stack(largest).max()) <= _MAX_SCALING:  # also catches inf / nan
                return None
            err = float((v * (kernel.T @ u) - b).abs().sum())
        f, g = f + torch.log(u), g + torch.log(v)
        if err < tol:
            break
    return torch.exp(log_k + f[:, None] + g[None, :]), g


def _log_domain(log_k, log_a, log_b, max_iter, tol, check_every):
    log_u = torch.zeros_like(log_a)
    log_v = torch.zeros_like(log_b)
    for it in range(1, max_iter + 1):
        log_v = log_b - torch.logsumexp(log_k + log_u[:, None], dim=0)
        log_u = log_a - torch.logsumexp(log_k + log_v[None, :], dim=1)
        if it % check_every == 0 and it < max_iter:
            with torch.no_grad():
                columns = torch.logsumexp(log_k + log_u[:, None] + log_v[None, :], dim=0).exp()
                if float((columns - log_b.exp()).abs().sum()) < tol:
                    break
    return torch.exp(log_k + log_u[:, None] + log_v[None, :]), log_v


def uniform_log(n: int, like: torch.Tensor) -> torch.Tensor:
    """log(1/n) repeated n times, on ``like``'s device and dtype."""
    return torch.full((n,), -math.log(n), device=like.device, dtype=like.dtype)
