r"""Schedules that anneal the learning rate to an end over a fixed number of steps:
polynomial (and its linear case) down to 0, cosine down to ``eta_min``.

Each is a frozen dataclass called with a 0-based step, returning the absolute LR for that
step; building one checks its arguments. :math:`\eta_0` is ``base_lr`` throughout. The
examples assume a ``model``, an ``optimizer``, a ``loss_fn`` and a list of ``batches``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._common import check_between, check_int, check_positive, check_step, cos_between


def _polynomial(base_lr: float, total_steps: int, power: float, step: int) -> float:
    return base_lr * (1 - min(check_step(step), total_steps) / total_steps) ** power


@dataclass(frozen=True, kw_only=True)
class Polynomial:
    r"""Decay to 0 along a polynomial over ``total_steps`` (PyTorch's ``PolynomialLR``).

    .. math::
        \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^p

    where :math:`T` is ``total_steps`` (PyTorch's ``total_iters``) and :math:`p` is
    ``power``. The LR reaches 0 at step :math:`T` and stays there.

    Args:
        base_lr (float): the LR of step 0; > 0.
        total_steps (int): the step at which the LR reaches 0; >= 1.
        power (float): the exponent; > 0 (1 is linear decay). Default: 1.0.

    Example:
        >>> schedule = S.polynomial(base_lr=0.1, total_steps=100, power=2.0)
        >>> schedule(0), round(schedule(50), 12), schedule(100)
        (0.1, 0.025, 0.0)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Chen et al., *DeepLab: Semantic Image Segmentation with Deep Convolutional
    Nets, Atrous Convolution, and Fully Connected CRFs*, TPAMI 2018 ("poly", power 0.9).
    """

    base_lr: float
    total_steps: int
    power: float = 1.0

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("total_steps", self.total_steps, 1)
        check_positive("power", self.power)

    def __call__(self, step: int) -> float:
        return _polynomial(self.base_lr, self.total_steps, self.power, step)


@dataclass(frozen=True, kw_only=True)
class LinearDecay:
    r"""Straight down to 0 over ``total_steps``, as BERT does after its warm-up.

    .. math::
        \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)

    where :math:`T` is ``total_steps``: ``polynomial`` with power 1, and PyTorch's
    ``LinearLR(start_factor=1, end_factor=0, total_iters=T)``. BERT's schedule is
    ``linear_warmup(warmup_steps=w, then=linear_decay(base_lr=lr, total_steps=T - w))``.

    Args:
        base_lr (float): the LR of step 0; > 0.
        total_steps (int): the step at which the LR reaches 0 (and stays); >= 1.

    Example:
        >>> schedule = S.linear_decay(base_lr=0.1, total_steps=100)
        >>> schedule(0), schedule(50), schedule(100)
        (0.1, 0.05, 0.0)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Devlin et al., *BERT: Pre-training of Deep Bidirectional Transformers for
    Language Understanding*, NAACL 2019.
    """

    base_lr: float
    total_steps: int

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("total_steps", self.total_steps, 1)

    def __call__(self, step: int) -> float:
        return _polynomial(self.base_lr, self.total_steps, 1.0, step)


@dataclass(frozen=True, kw_only=True)
class Cosine:
    r"""Cosine annealing from ``base_lr`` to ``eta_min`` (PyTorch's ``CosineAnnealingLR``).

    .. math::
        \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi t}{T}\right)

    where :math:`T` is ``total_steps`` (PyTorch's ``T_max``). The LR reaches
    :math:`\eta_{\min}` at step :math:`T`; past it the cosine goes on, back up to
    :math:`\eta_0` at :math:`2T`, as PyTorch's does (``cosine_restarts`` restarts instead).

    Args:
        base_lr (float): the LR of step 0; > 0.
        total_steps (int): steps from ``base_lr`` down to ``eta_min``; >= 1.
        eta_min (float): the lowest LR; in ``[0, base_lr]``. Default: 0.0.

    Example:
        >>> schedule = S.cosine(base_lr=0.1, total_steps=100, eta_min=0.001)
        >>> schedule(0), schedule(50), schedule(100)
        (0.1, 0.0505, 0.001)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
    Restarts*, ICLR 2017.
    """

    base_lr: float
    total_steps: int
    eta_min: float = 0.0

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("total_steps", self.total_steps, 1)
        check_between("eta_min", self.eta_min, 0, self.base_lr, closed="both")

    def __call__(self, step: int) -> float:
        return cos_between(self.base_lr, self.eta_min, check_step(step) / self.total_steps)


polynomial = Polynomial
linear_decay = LinearDecay
cosine = Cosine
