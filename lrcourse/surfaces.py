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

import math
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


def saddle() -> Surface:
    """``x**2 / 2 - y**2 / 2 + y**4 / 4``: a saddle point at the origin (curvature +1 along x, -1
    along y: a minimum one way, a maximum the other) between two minima at ``(0, ±1)`` (curvatures
    1 and 2). Near the saddle the gradient is tiny, so descent lingers there: each step multiplies
    ``y`` by about ``1 + lr``, and the time to escape grows like ``1 / lr``."""
    return Surface(
        name="saddle",
        f=lambda w: w[0] ** 2 / 2 - w[1] ** 2 / 2 + w[1] ** 4 / 4,
        grad=lambda w: np.array([w[0], w[1] ** 3 - w[1]]),
        minimum=(0.0, 1.0),
        extent=((-2.0, 2.0), (-1.6, 1.6)),
    )


#: ``sharp_and_flat``'s wells: (center, width); the curvature at the bottom of a well is about 1 / width**2.
SHARP_WELL, FLAT_WELL = (-1.0, 0.15), (1.5, 0.6)


def _well(w, center: float, width: float):
    # ``math.e ** x`` works on NumPy arrays and on PyTorch tensors alike (the tests differentiate it).
    return math.e ** (-((w - center) ** 2) / (2 * width ** 2))


def sharp_and_flat() -> Surface:
    """A 1-D loss with a sharp minimum and a flat one of about the same depth:
    ``w**2 / 20 - g(w; -1, 0.15) - g(w; 1.5, 0.6)``, where ``g(w; c, s) = exp(-(w - c)**2 / (2 s**2))``.

    The sharp well (at ``w ≈ -1``, curvature about 45) is slightly the deeper; the flat one (at
    ``w ≈ 1.5``, curvature about 3) is wide. Gradient descent can stay in a minimum only if
    ``lr < 2 / curvature`` there: at ``lr = 0.1`` the sharp well throws it out and the flat one keeps it.
    """
    (c1, s1), (c2, s2) = SHARP_WELL, FLAT_WELL

    def grad(w):
        return w / 10 + _well(w, c1, s1) * (w - c1) / s1 ** 2 + _well(w, c2, s2) * (w - c2) / s2 ** 2

    return Surface(
        name="sharp and flat minima",
        f=lambda w: w[0] ** 2 / 20 - _well(w[0], c1, s1) - _well(w[0], c2, s2),
        grad=grad,
        minimum=(_lowest(grad, c1),),
        extent=((-2.5, 3.0),),
    )


def _lowest(grad, start: float) -> float:
    # Newton on the gradient from the well's center, with a central-difference second derivative.
    w, h = float(start), 1e-6
    for _ in range(50):
        slope = float(grad(np.array([w]))[0])
        w -= slope / ((float(grad(np.array([w + h]))[0]) - float(grad(np.array([w - h]))[0])) / (2 * h))
    return w


def curvatures(surface: Surface, point, h: float = 1e-5) -> np.ndarray:
    """The eigenvalues of the Hessian of ``surface`` at ``point``, smallest first (central differences
    of the gradient). All positive: a minimum, its largest the sharpness; mixed signs: a saddle."""
    point = np.atleast_1d(np.asarray(point, dtype=float))
    if point.shape != (surface.dim,) or not np.isfinite(point).all():
        raise ValueError(f"point must be {surface.dim} finite coordinate(s) for {surface.name}; got {point.tolist()}")
    if not (isinstance(h, (int, float)) and h > 0):
        raise ValueError(f"h must be a number > 0; got {h!r}")
    steps = np.eye(surface.dim) * h
    hessian = np.stack([(surface.grad(point + e) - surface.grad(point - e)) / (2 * h) for e in steps], axis=1)
    return np.linalg.eigvalsh((hessian + hessian.T) / 2)


SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": lambda: quadratic(1.0),
    "valley": valley,
    "two minima": two_minima,
    "saddle": saddle,
    "sharp and flat": sharp_and_flat,
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
