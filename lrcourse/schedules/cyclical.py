r"""Schedules that go up as well as down: cyclical LRs, 1-cycle and SGDR's warm restarts.

Each is a frozen dataclass called with a 0-based step, returning the absolute LR for that
step; building one checks its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._common import check_at_least, check_between, check_int, check_max_lr, check_positive, check_step, cos_between
from .combine import Combine, CosAnneal, LinAnneal


def _triangle(t: int, step_size: int) -> tuple[int, float]:
    """The cycle (counted from 1) holding step ``t``, and the triangle wave's height there in [0, 1]."""
    cycle, into = divmod(t, 2 * step_size)
    return cycle + 1, 1 - abs(into - step_size) / step_size


@dataclass(frozen=True, kw_only=True)
class _Cyclical:
    r"""What the three policies of Smith's cyclical LR share; each scales the amplitude its own way.

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\, h_t\, \sigma_t, \quad
        h_t = 1 - \left|\frac{t \bmod 2s}{s} - 1\right|, \quad
        c_t = \left\lfloor \frac{t}{2s} \right\rfloor + 1

    where :math:`\eta_{lo}` is ``base_lr``, :math:`\eta_{hi}` is ``max_lr``, :math:`s` is
    ``step_size`` (half a cycle), :math:`h_t` the triangle wave, :math:`c_t` the cycle and
    :math:`\sigma_t` the policy's amplitude scale.
    """

    base_lr: float
    max_lr: float
    step_size: int

    def __post_init__(self):
        check_max_lr(self.base_lr, self.max_lr)
        check_int("step_size", self.step_size, 1)

    def __call__(self, step: int) -> float:
        t = check_step(step)
        cycle, height = _triangle(t, self.step_size)
        return self.base_lr + (self.max_lr - self.base_lr) * height * self._scale(cycle, t)

    def _scale(self, cycle: int, t: int) -> float:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Triangular(_Cyclical):
    r"""Smith's triangular cycle between ``base_lr`` and ``max_lr`` (``CyclicLR(mode="triangular")``).

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\, h_t, \quad
        h_t = 1 - \left|\frac{t \bmod 2s}{s} - 1\right|

    where :math:`\eta_{lo}` is ``base_lr``, :math:`\eta_{hi}` is ``max_lr`` and :math:`s` is
    ``step_size``: the LR climbs for :math:`s` steps and comes down for :math:`s`.

    Args:
        base_lr (float): the LR at the start and end of each cycle; > 0.
        max_lr (float): the LR at the middle of each cycle; >= ``base_lr``.
        step_size (int): steps in half a cycle (PyTorch's ``step_size_up``); >= 1.

    Reference: Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017.
    """

    def _scale(self, cycle: int, t: int) -> float:
        return 1.0


@dataclass(frozen=True, kw_only=True)
class Triangular2(_Cyclical):
    r"""The triangular cycle with its amplitude halved every cycle (``CyclicLR(mode="triangular2")``).

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\, h_t\, 2^{1 - c_t}, \quad
        c_t = \left\lfloor \frac{t}{2s} \right\rfloor + 1

    where :math:`h_t` is the triangle wave of ``triangular`` and :math:`c_t` the cycle.

    Args:
        base_lr (float): the LR at the start and end of each cycle; > 0.
        max_lr (float): the peak of the first cycle; >= ``base_lr``.
        step_size (int): steps in half a cycle; >= 1.

    Reference: Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017.
    """

    def _scale(self, cycle: int, t: int) -> float:
        return 0.5 ** (cycle - 1)


@dataclass(frozen=True, kw_only=True)
class ExpRange(_Cyclical):
    r"""The triangular cycle with its amplitude shrunk by ``gamma`` every step (``CyclicLR(mode="exp_range")``).

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\, h_t\, \gamma^t

    where :math:`h_t` is the triangle wave of ``triangular`` and :math:`t` counts all
    steps since the start, as in PyTorch's code (its docstring says "cycle iterations").

    Args:
        base_lr (float): the LR at the start and end of each cycle; > 0.
        max_lr (float): the upper bound of the first cycle; >= ``base_lr``.
        step_size (int): steps in half a cycle; >= 1.
        gamma (float): amplitude factor per step, in ``(0, 1]``; e.g. 0.99994.

    Reference: Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017.
    """

    gamma: float

    def __post_init__(self):
        super().__post_init__()
        check_between("gamma", self.gamma, 0, 1, closed="high")

    def _scale(self, cycle: int, t: int) -> float:
        return self.gamma**t


@dataclass(frozen=True, kw_only=True)
class OneCycle:
    r"""The 1-cycle policy: up from ``max_lr / div_factor`` to ``max_lr``, then far below the start.

    .. math::
        \eta_t = \begin{cases}
            A\big(\eta_{max} / d,\ \eta_{max},\ t / t_p\big) & t \le t_p \\
            A\big(\eta_{max},\ \eta_{max} / (d f),\ (t - t_p) / (T - 1 - t_p)\big) & t_p < t \le T - 1
        \end{cases}

    where :math:`T` is ``total_steps``, :math:`t_p = pT - 1` the peak step for :math:`p`
    = ``pct_start``, :math:`d` is ``div_factor``, :math:`f` is ``final_div_factor`` and
    :math:`A(a, b, x)` anneals from :math:`a` to :math:`b` as :math:`x` goes from 0 to 1:
    half a cosine (``anneal="cos"``) or a line (``"linear"``). This is PyTorch's
    ``OneCycleLR``, whose final LR falls on the last step :math:`T - 1`. Step :math:`T`
    (set by the scheduler step after the last update) holds it; later steps raise.
    With ``three_phase=True`` the LR goes back down to :math:`\eta_{max} / d` by step
    :math:`2 t_p` and then to :math:`\eta_{max} / (d f)` at :math:`T - 1`, as in the paper.

    The attribute ``momentum`` is the matching momentum schedule, cycled the other way:
    :math:`A(m_{max}, m_{base}, \cdot)` while the LR rises and :math:`A(m_{base},
    m_{max}, \cdot)` while it falls (held at :math:`m_{max}` in a third phase).

    Args:
        max_lr (float): the peak LR; > 0.
        total_steps (int): steps of training; the schedule is defined for steps
            ``0 .. total_steps``.
        pct_start (float): share of the steps spent rising, in ``(0, 1)``, with
            ``pct_start * total_steps > 1``. Default: 0.3.
        anneal (str): ``"cos"`` or ``"linear"`` (PyTorch's ``anneal_strategy``). Default: "cos".
        div_factor (float): the first LR is ``max_lr / div_factor``; >= 1. Default: 25.
        final_div_factor (float): the last LR is the first one divided by this; >= 1. Default: 1e4.
        three_phase (bool): come back to the first LR before the final descent. Default: False.
        base_momentum (float): momentum at the peak LR, in ``[0, 1)``. Default: 0.85.
        max_momentum (float): momentum at the start and end, in ``[base_momentum, 1)``. Default: 0.95.

    References: Smith & Topin, *Super-Convergence: Very Fast Training of Neural Networks
    Using Large Learning Rates*, 2019; Smith, *A Disciplined Approach to Neural Network
    Hyper-Parameters: Part 1*, 2018 (cycling the momentum).
    """

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    anneal: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    momentum: Combine = field(init=False, repr=False, compare=False)
    _lr: Combine = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_positive("max_lr", self.max_lr)
        check_int("total_steps", self.total_steps, 1)
        check_between("pct_start", self.pct_start, 0, 1)
        if not isinstance(self.three_phase, bool):
            raise ValueError(f"three_phase must be True or False; got {self.three_phase!r}")
        peak = self.pct_start * self.total_steps - 1
        if peak <= 0:
            raise ValueError(f"pct_start must be > 1 / total_steps = {1 / self.total_steps:g}, so the LR rises "
                             f"for at least one step; got {self.pct_start!r}")
        if self.three_phase and 2 * peak >= self.total_steps - 1:
            raise ValueError(f"pct_start must be < (total_steps + 1) / (2 * total_steps) = "
                             f"{(self.total_steps + 1) / (2 * self.total_steps):g} with three_phase=True; "
                             f"got {self.pct_start!r}")
        if self.anneal not in ("cos", "linear"):
            raise ValueError(f"anneal must be 'cos' or 'linear'; got {self.anneal!r}")
        check_at_least("div_factor", self.div_factor, 1)
        check_at_least("final_div_factor", self.final_div_factor, 1)
        check_between("base_momentum", self.base_momentum, 0, 1, closed="low")
        check_between("max_momentum", self.max_momentum, self.base_momentum, 1, closed="low")

        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        high, low = self.max_momentum, self.base_momentum
        if self.three_phase:
            ends = (peak, 2 * peak, self.total_steps - 1)
            lrs, momenta = (initial, self.max_lr, initial, final), (high, low, high, high)
        else:
            ends = (peak, self.total_steps - 1)
            lrs, momenta = (initial, self.max_lr, final), (high, low, high)
        # A last one-step phase holds the final values for step total_steps, which the
        # scheduler step after the last optimizer step asks for (PyTorch allows it too).
        ends, lrs, momenta = ends + (self.total_steps,), lrs + (final,), momenta + (high,)
        pcts = [(end - start) / self.total_steps for start, end in zip((0.0,) + ends, ends)]
        anneal = CosAnneal if self.anneal == "cos" else LinAnneal
        object.__setattr__(self, "_lr", Combine(pcts, [anneal(a, b) for a, b in zip(lrs, lrs[1:])],
                                                self.total_steps))
        object.__setattr__(self, "momentum", Combine(pcts, [anneal(a, b) for a, b in zip(momenta, momenta[1:])],
                                                     self.total_steps))

    def __call__(self, step: int) -> float:
        return self._lr(step)


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


triangular = Triangular
triangular2 = Triangular2
exp_range = ExpRange
one_cycle = OneCycle
cosine_restarts = CosineRestarts
