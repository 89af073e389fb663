"""Binned Poisson likelihood of a signal template over a background: the background either fixed, or the dijet
function whose parameters float and are profiled at every signal strength.

NLL(s, q) = sum_i [mu_i - n_i ln mu_i], mu = b(q) + s t. `profile(counts, s)` minimises over q at fixed s,
`fit(counts)` over (s >= 0, q). Minimisation is Fisher scoring with step halving, started from the
background-only fit: the dijet function is an exponential family in q (see `DijetShape`), so each step costs one
exponential per Gauss-Legendre node. These are the exact fits behind the CLs limits; the bump hunt's scan uses
the same profile to first order (see `bumphunt`), and the tests compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..exceptions import StatsInputError
from .dijet import DijetFitResult, DijetShape

__all__ = ["SignalPlusBackground"]

_TOL = 1e-9


def _nll(counts: np.ndarray, mu: np.ndarray) -> float:
    if not np.all(mu > 0) or not np.all(np.isfinite(mu)):
        return float("inf")
    return float(np.sum(mu - counts * np.log(mu)))


@dataclass
class SignalPlusBackground:
    """s t + b over fixed bins. `background` fixed, or `fit` given: b is the dijet function of that fit's
    member with all its parameters profiled (started from the fit)."""

    template: np.ndarray
    background: np.ndarray | None = None
    fit_result: DijetFitResult | None = None
    _shape: DijetShape | None = field(default=None, init=False, repr=False)
    _start: np.ndarray = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.template = np.asarray(self.template, dtype=np.float64)
        if (self.background is None) == (self.fit_result is None):
            raise StatsInputError("give either a fixed background or a dijet fit to profile, not both")
        if self.fit_result is not None:
            if not self.fit_result.converged:
                raise StatsInputError(f"the background fit is not usable: {self.fit_result.message}")
            self._shape = DijetShape.of(self.fit_result)
            self._start = DijetShape.start(self.fit_result)
            n_bins = len(self.fit_result.counts)
        else:
            self.background = np.maximum(np.asarray(self.background, dtype=np.float64), 1e-12)
            self._start = np.zeros(0)
            n_bins = len(self.background)
        if self.template.shape != (n_bins,):
            raise StatsInputError(f"the template has shape {self.template.shape}, the spectrum {n_bins} bins")

    @property
    def profiled(self) -> bool:
        return self._shape is not None

    def expected(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Background (B,) and its Jacobian (B, k) at nuisance parameters q."""
        if self._shape is None:
            return self.background, np.zeros((len(self.background), 0))
        return self._shape.expectation(q)

    def background_only(self, counts) -> tuple[np.ndarray, np.ndarray]:
        """The background-only fit of `counts`: expected counts and parameters (the Asimov data of mu = 0)."""
        _, q, _ = self._minimise(np.asarray(counts, dtype=np.float64), 0.0, self._start, free_signal=False)
        return self.expected(q)[0], q

    def profile(self, counts, s: float, q_start=None) -> tuple[float, np.ndarray]:
        """min over q of NLL(s, q), and the q that attains it."""
        q = self._start if q_start is None else q_start
        nll, q, _ = self._minimise(np.asarray(counts, dtype=np.float64), float(s), q, free_signal=False)
        return nll, q

    def fit(self, counts, s_start: float = 0.0) -> tuple[float, float, np.ndarray]:
        """(s_hat >= 0, NLL, q_hat): the unconditional fit."""
        counts = np.asarray(counts, dtype=np.float64)
        nll, q, s = self._minimise(counts, max(float(s_start), 0.0), self._start, free_signal=True)
        return s, nll, q

    def _minimise(self, counts, s, q, *, free_signal: bool, iterations: int = 200):
        t = self.template
        q = np.array(q, dtype=np.float64)
        b, jac = self.expected(q)
        current = _nll(counts, b + s * t)
        if not np.isfinite(current):
            s = 0.0 if free_signal else s
            current = _nll(counts, b + s * t)
            if not np.isfinite(current):
                raise StatsInputError(f"the model predicts no events where events are seen at s = {s:g}")
        for _ in range(iterations):
            mu = b + s * t
            grads = np.concatenate([jac, t[:, None]], axis=1) if free_signal else jac
            if grads.shape[1] == 0:
                break
            w = 1.0 / mu
            score = grads.T @ (counts * w - 1.0)
            fisher = (grads.T * w) @ grads
            try:
                delta = np.linalg.solve(fisher + 1e-12 * np.eye(len(fisher)) * np.trace(fisher), score)
            except np.linalg.LinAlgError:
                break
            step, improved = 1.0, False
            while step > 1e-6:
                q_new = q + step * delta[: len(q)]
                s_new = max(s + step * delta[-1], 0.0) if free_signal else s
                b_new, jac_new = self.expected(q_new)
                value = _nll(counts, b_new + s_new * t)
                if value <= current:
                    improved = True
                    break
                step *= 0.5
            if not improved:
                break
            gain = current - value
            q, s, b, jac, current = q_new, s_new, b_new, jac_new, value
            if free_signal and s == 0.0 and delta[-1] < 0:  # on the boundary: the rest is the background fit
                nll, q, _ = self._minimise(counts, 0.0, q, free_signal=False, iterations=iterations)
                return nll, q, 0.0
            if gain < _TOL:
                break
        return current, q, s
