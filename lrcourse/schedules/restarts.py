r"""SGDR: cosine annealing with warm restarts, each period as long as or longer than the last.

The schedule is a frozen dataclass called with a 0-based step, returning the absolute LR for
that step. The example assumes a ``model``, an ``optimizer``, a ``loss_fn`` and a list of
``batches``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._common import check_between, check_int, check_positive, check_step, cos_between


@dataclass(frozen=True, kw_only=True)
class CosineRestarts:
    r"""SGDR: cosine annealing that restarts at ``base_lr``, each period ``T_mult`` times the last.

    .. math::
        \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi T_{cur}}{T_i}\right)

    where :math:`T_i = T_0 T_{mult}^i` is the length of the current period :math:`i`
    (from 0) and :math:`T_{cur}` the steps since its start. Periods are counted in whole
    steps, so restarts fall exactly on steps :math:`T_0, T_0 + T_0 T_{mult}, \dots`
    (PyTorch's ``CosineAnnealingWarmRestarts`` stepped once per step).

    Args:
        base_lr (float): the LR at each restart; > 0.
        T_0 (int): steps in the first period; >= 1.
        T_mult (int): growth factor of the periods; >= 1. Default: 1.
        eta_min (float): the LR approached at the end of each period; in ``[0, base_lr]``. Default: 0.

    Example:
        >>> schedule = S.cosine_restarts(base_lr=0.1, T_0=10, T_mult=2)
        >>> schedule(0), schedule(5), schedule(10), schedule(20), schedule(30)  # restarts at 10 and 30
        (0.1, 0.05, 0.1, 0.05, 0.1)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step(), counting steps (not epochs)

    Reference: Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
    Restarts*, ICLR 2017.
    """

    base_lr: float
    T_0: int
    T_mult: int = 1
    eta_min: float = 0.0

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("T_0", self.T_0, 1)
        check_int("T_mult", self.T_mult, 1)
        check_between("eta_min", self.eta_min, 0, self.base_lr, closed="both")

    def __call__(self, step: int) -> float:
        t_cur, period = check_step(step), self.T_0
        if self.T_mult == 1:
            t_cur %= period
        else:
            # Integer arithmetic: PyTorch's closed form takes a floating-point logarithm,
            # which lands just below a restart (log(243, 3) is 4.999999999999999).
            while t_cur >= period:
                t_cur -= period
                period *= self.T_mult
        return cos_between(self.base_lr, self.eta_min, t_cur / period)


cosine_restarts = CosineRestarts
