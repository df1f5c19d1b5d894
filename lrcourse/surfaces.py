"""Gradient descent on small loss surfaces, where every step can be drawn.

A surface is a function of a point ``w`` (a 1-D or 2-D NumPy vector) with its gradient.
:func:`gradient_descent` runs the plain update

    w_{t+1} = w_t - lr * grad f(w_t)

and returns the whole path. On a quadratic ``f(w) = curvature / 2 * w**2`` each step
multiplies ``w`` by ``1 - lr * curvature``: the path shrinks for ``0 < lr < 2 / curvature``
(and flips sign every step once ``lr > 1 / curvature``), and it grows for ``lr > 2 / curvature``.

With heavy-ball momentum ``beta`` (PyTorch's SGD: ``v <- beta * v + grad f(w)``, ``w <- w - lr * v``)
the quadratic's limit moves to ``lr < 2 * (1 + beta) / curvature``: the roots of
``z**2 - (1 + beta - lr * curvature) * z + beta`` lie inside the unit circle exactly then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .checks import check_int, check_number, check_positive

#: A path whose loss rises above this many times its starting loss has diverged.
DIVERGENCE_FACTOR = 1e6


@dataclass(frozen=True)
class Surface:
    """A loss surface: ``f`` and ``grad`` take a point of shape ``(dim,)``.

    ``f`` also accepts a grid of points with the coordinates on the first axis (shape
    ``(dim, ...)``), which the contour plots use. ``minimum`` is the global minimum and
    ``extent`` the box the plots show, one ``(low, high)`` pair per coordinate.
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    minimum: tuple[float, ...]
    extent: tuple[tuple[float, float], ...]

    @property
    def dim(self) -> int:
        return len(self.minimum)


def quadratic(curvature: float = 1.0) -> Surface:
    """``f(w) = curvature / 2 * w**2`` in 1-D; gradient descent is stable for ``lr < 2 / curvature``."""
    if not curvature > 0:
        raise ValueError(f"curvature must be > 0; got {curvature!r}")
    return Surface(
        name=f"quadratic (curvature {curvature:g})",
        f=lambda w: 0.5 * curvature * w[0] ** 2,
        grad=lambda w: curvature * w,
        minimum=(0.0,),
        extent=((-2.0, 2.0),),
    )


def valley(curvatures: tuple[float, float] = (1.0, 20.0)) -> Surface:
    """An ill-conditioned 2-D quadratic ``(a * x**2 + b * y**2) / 2``.

    The steep direction (the larger curvature) limits the LR to ``2 / max(a, b)``, while
    the flat one needs a large LR to make progress: the dilemma of a single LR.
    """
    a, b = curvatures
    if not (a > 0 and b > 0):
        raise ValueError(f"curvatures must both be > 0; got {curvatures!r}")
    scale = np.array([a, b])
    return Surface(
        name=f"valley (curvatures {a:g} and {b:g})",
        f=lambda w: 0.5 * (a * w[0] ** 2 + b * w[1] ** 2),
        grad=lambda w: scale * w,
        minimum=(0.0, 0.0),
        extent=((-2.2, 2.2), (-1.5, 1.5)),
    )


def two_minima() -> Surface:
    """A tilted double well ``x**4 / 4 - x**2 + x / 2 + y**2``.

    The global minimum is at ``x ≈ -1.53``, a local one at ``x ≈ 1.27``. Started at
    ``x > 0.26`` a small LR settles in the local minimum; a larger one can jump the ridge.
    """
    return Surface(
        name="two minima",
        f=lambda w: w[0] ** 4 / 4 - w[0] ** 2 + w[0] / 2 + w[1] ** 2,
        grad=lambda w: np.array([w[0] ** 3 - 2 * w[0] + 0.5, 2 * w[1]]),
        minimum=(_global_two_minima_x(), 0.0),
        extent=((-2.5, 2.5), (-1.5, 1.5)),
    )


def _global_two_minima_x() -> float:
    roots = np.roots([1.0, 0.0, -2.0, 0.5]).real
    return float(min(roots))


SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": lambda: quadratic(1.0),
    "valley": valley,
    "two minima": two_minima,
}


@dataclass(frozen=True)
class Descent:
    """The path of one gradient-descent run: ``path[t]`` is ``w_t``, ``loss[t]`` is ``f(w_t)``.

    A run that diverges (the loss exceeds ``DIVERGENCE_FACTOR`` times its start, or stops
    being finite) ends there: ``diverged_at`` is that step.
    """

    surface: Surface
    lr: float
    path: np.ndarray
    loss: np.ndarray
    diverged_at: int | None
    momentum: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    @property
    def sign_flips(self) -> int:
        """How often a coordinate crosses the minimum between consecutive steps (oscillation)."""
        offset = np.sign(self.path - np.asarray(self.surface.minimum))
        return int(np.sum(offset[1:] * offset[:-1] < 0))


def gradient_descent(surface: Surface, start, lr: float, steps: int = 50, momentum: float = 0.0) -> Descent:
    """Run ``steps`` steps of ``w <- w - lr * grad f(w)`` from ``start``; with ``momentum`` (beta
    in [0, 1)) the heavy-ball steps of PyTorch's SGD, ``v <- beta * v + grad f(w)`` (``v`` starts at 0),
    ``w <- w - lr * v``."""
    start = np.atleast_1d(np.asarray(start, dtype=float))
    if start.shape != (surface.dim,):
        raise ValueError(f"start must have {surface.dim} coordinate(s) for {surface.name}; got {start.tolist()}")
    if not np.isfinite(start).all():
        raise ValueError(f"start must be finite; got {start.tolist()}")
    lr = check_positive("lr", lr)
    check_int("steps", steps, 1)
    momentum = check_number("momentum", momentum, 0, 1, high_open=True)

    path, loss = [start], [float(surface.f(start))]
    limit = max(abs(loss[0]), 1e-12) * DIVERGENCE_FACTOR
    diverged_at = None
    w, velocity = start, np.zeros_like(start)
    # Overflow on the way to infinity is the expected outcome of a divergent run.
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            velocity = momentum * velocity + surface.grad(w)
            w = w - lr * velocity
            path.append(w)
            loss.append(float(surface.f(w)))
            if not np.isfinite(loss[-1]) or abs(loss[-1]) > limit:
                diverged_at = t
                break
    return Descent(surface=surface, lr=float(lr), path=np.array(path), loss=np.array(loss), diverged_at=diverged_at,
                   momentum=momentum)
