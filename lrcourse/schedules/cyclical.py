r"""Smith's cyclical learning rates: the LR goes up and down between two bounds, and the
momentum, if cycled, the other way.

Each policy is a frozen dataclass called with a 0-based step, returning the absolute LR for
that step; its ``momentum`` attribute is the matching momentum schedule. The examples assume
a ``model``, an ``optimizer`` (SGD with momentum), a ``loss_fn`` and a list of ``batches``.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass

from ._common import check_between, check_int, check_max_lr, check_step


def _triangle(t: int, up: int, down: int) -> tuple[int, float]:
    """The cycle (counted from 1) holding step ``t``, and the triangle wave's height there in [0, 1]."""
    cycle, into = divmod(t, up + down)
    height = 1 - (up - into) / up if into <= up else 1 - (into - up) / down
    return cycle + 1, height


@dataclass(frozen=True, kw_only=True)
class _Cyclical:
    r"""What the three policies share: a triangle wave whose amplitude each scales its own way.

    .. math::
        v_t = a + (b - a)\, h_t\, \sigma_t, \quad
        h_t = \begin{cases} 1 - (u - r_t)/u & r_t \le u \\ 1 - (r_t - u)/d & r_t > u \end{cases}, \quad
        r_t = t \bmod (u + d), \quad
        c_t = \left\lfloor \frac{t}{u + d} \right\rfloor + 1

    where :math:`u` is ``step_size_up``, :math:`d` is ``step_size_down``, :math:`h_t` the
    triangle wave, :math:`c_t` the cycle and :math:`\sigma_t` the policy's amplitude scale.
    The LR is :math:`v_t` from :math:`a` = ``base_lr`` to :math:`b` = ``max_lr``; the
    momentum is :math:`v_t` from :math:`a` = ``max_momentum`` to :math:`b` = ``base_momentum``.
    Give ``step_size`` for an even cycle, or ``step_size_up`` (and ``step_size_down``,
    which defaults to it) as PyTorch's ``CyclicLR`` takes them.
    """

    base_lr: float
    max_lr: float
    step_size: InitVar[int | None] = None
    step_size_up: int | None = None
    step_size_down: int | None = None
    base_momentum: float = 0.8
    max_momentum: float = 0.9

    def __post_init__(self, step_size: int | None):
        check_max_lr(self.base_lr, self.max_lr)
        if step_size is not None:
            if self.step_size_up is not None or self.step_size_down is not None:
                raise ValueError(f"step_size (an even cycle) cannot be given with step_size_up or step_size_down; "
                                 f"for an uneven cycle give step_size_up and step_size_down only; got "
                                 f"step_size={step_size!r}, step_size_up={self.step_size_up!r}, "
                                 f"step_size_down={self.step_size_down!r}")
            check_int("step_size", step_size, 1)
            up = down = step_size
        else:
            if self.step_size_up is None:
                raise ValueError("step_size (an even cycle) or step_size_up (steps rising in each cycle) must be given")
            check_int("step_size_up", self.step_size_up, 1)
            up = self.step_size_up
            down = up if self.step_size_down is None else self.step_size_down
            check_int("step_size_down", down, 1)
        object.__setattr__(self, "step_size_up", int(up))
        object.__setattr__(self, "step_size_down", int(down))
        check_between("base_momentum", self.base_momentum, 0, 1, closed="low")
        check_between("max_momentum", self.max_momentum, self.base_momentum, 1, closed="low")

    def __call__(self, step: int) -> float:
        return self._wave(step, self.base_lr, self.max_lr)

    @property
    def momentum(self) -> CyclicalMomentum:
        """The momentum schedule cycled against the LR, as ``CyclicLR(cycle_momentum=True)`` does."""
        return CyclicalMomentum(self)

    def _wave(self, step: int, start: float, peak: float) -> float:
        t = check_step(step)
        cycle, height = _triangle(t, self.step_size_up, self.step_size_down)
        return start + (peak - start) * height * self._scale(cycle, t)

    def _scale(self, cycle: int, t: int) -> float:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Triangular(_Cyclical):
    r"""Smith's triangular cycle between ``base_lr`` and ``max_lr`` (``CyclicLR(mode="triangular")``).

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\, h_t, \quad
        h_t = \begin{cases} 1 - (u - r_t)/u & r_t \le u \\ 1 - (r_t - u)/d & r_t > u \end{cases}, \quad
        r_t = t \bmod (u + d)

    where :math:`\eta_{lo}` is ``base_lr``, :math:`\eta_{hi}` is ``max_lr``, :math:`u` is
    ``step_size_up`` and :math:`d` is ``step_size_down``: the LR climbs for :math:`u` steps
    and comes down for :math:`d`. ``momentum`` is the momentum schedule
    :math:`m_t = m_{hi} - (m_{hi} - m_{lo})\, h_t`, at ``max_momentum`` when the LR is lowest.

    Args:
        base_lr (float): the LR at the start and end of each cycle; > 0.
        max_lr (float): the LR at the peak of each cycle; >= ``base_lr``.
        step_size (int): steps in half a cycle, for an even cycle; >= 1. Or give:
        step_size_up (int): steps rising in each cycle; >= 1.
        step_size_down (int or None): steps falling in each cycle; >= 1. Default: ``step_size_up``.
        base_momentum (float): the momentum at the peak LR, in ``[0, 1)``. Default: 0.8.
        max_momentum (float): the momentum at ``base_lr``, in ``[base_momentum, 1)``. Default: 0.9.

    Example:
        >>> schedule = S.triangular(base_lr=0.001, max_lr=0.006, step_size=4)
        >>> [round(schedule(t), 6) for t in range(9)]
        [0.001, 0.00225, 0.0035, 0.00475, 0.006, 0.00475, 0.0035, 0.00225, 0.001]
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> momentum = S.MomentumScheduler(optimizer, schedule.momentum)  # optional
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()
        ...     momentum.step()

    Reference: Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017.
    """

    def _scale(self, cycle: int, t: int) -> float:
        return 1.0


@dataclass(frozen=True, kw_only=True)
class Triangular2(_Cyclical):
    r"""The triangular cycle with its amplitude halved every cycle (``CyclicLR(mode="triangular2")``).

    .. math::
        \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\, h_t\, 2^{1 - c_t}, \quad
        c_t = \left\lfloor \frac{t}{u + d} \right\rfloor + 1

    where :math:`h_t` is the triangle wave of ``triangular``, :math:`u` and :math:`d` the
    steps up and down and :math:`c_t` the cycle. ``momentum`` is
    :math:`m_t = m_{hi} - (m_{hi} - m_{lo})\, h_t\, 2^{1 - c_t}`.

    Args:
        base_lr (float): the LR at the start and end of each cycle; > 0.
        max_lr (float): the peak of the first cycle; >= ``base_lr``.
        step_size (int): steps in half a cycle, for an even cycle; >= 1. Or give:
        step_size_up (int): steps rising in each cycle; >= 1.
        step_size_down (int or None): steps falling in each cycle; >= 1. Default: ``step_size_up``.
        base_momentum (float): the momentum at the first peak, in ``[0, 1)``. Default: 0.8.
        max_momentum (float): the momentum at ``base_lr``, in ``[base_momentum, 1)``. Default: 0.9.

    Example:
        >>> schedule = S.triangular2(base_lr=0.001, max_lr=0.006, step_size_up=2, step_size_down=6)
        >>> round(schedule(2), 6), round(schedule(10), 6)  # the first two peaks
        (0.006, 0.0035)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

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
    ``momentum`` is :math:`m_t = m_{hi} - (m_{hi} - m_{lo})\, h_t\, \gamma^t`.

    Args:
        base_lr (float): the LR at the start and end of each cycle; > 0.
        max_lr (float): the upper bound of the first cycle; >= ``base_lr``.
        gamma (float): amplitude factor per step, in ``(0, 1]``; e.g. 0.99994.
        step_size (int): steps in half a cycle, for an even cycle; >= 1. Or give:
        step_size_up (int): steps rising in each cycle; >= 1.
        step_size_down (int or None): steps falling in each cycle; >= 1. Default: ``step_size_up``.
        base_momentum (float): the lowest momentum, in ``[0, 1)``. Default: 0.8.
        max_momentum (float): the momentum at ``base_lr``, in ``[base_momentum, 1)``. Default: 0.9.

    Example:
        >>> schedule = S.exp_range(base_lr=0.001, max_lr=0.006, step_size=100, gamma=0.999)
        >>> round(schedule(100), 6), round(schedule(300), 6)  # the first two peaks
        (0.005524, 0.004704)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017.
    """

    gamma: float

    def __post_init__(self, step_size: int | None):
        super().__post_init__(step_size)
        check_between("gamma", self.gamma, 0, 1, closed="high")

    def _scale(self, cycle: int, t: int) -> float:
        return self.gamma**t


@dataclass(frozen=True)
class CyclicalMomentum:
    r"""The momentum of a cyclical LR schedule, low when the LR is high (``CyclicLR(cycle_momentum=True)``).

    .. math::
        m_t = m_{hi} + (m_{lo} - m_{hi})\, h_t\, \sigma_t

    where :math:`m_{lo}` is the schedule's ``base_momentum``, :math:`m_{hi}` its
    ``max_momentum``, and :math:`h_t \sigma_t` the same scaled triangle wave that moves its
    LR from ``base_lr`` towards ``max_lr``. Get it as ``schedule.momentum``; it is a schedule
    like any other (``sample``, ``plot_schedule``, :class:`MomentumScheduler`).

    Args:
        schedule: a ``triangular``, ``triangular2`` or ``exp_range`` schedule.

    Example:
        >>> schedule = S.triangular(base_lr=0.001, max_lr=0.006, step_size=4)
        >>> [round(schedule.momentum(t), 6) for t in (0, 2, 4)]
        [0.9, 0.85, 0.8]
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> momentum = S.MomentumScheduler(optimizer, schedule.momentum)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step(), both
        ...     momentum.step()

    Reference: Smith, *A Disciplined Approach to Neural Network Hyper-Parameters: Part 1*,
    2018 (cycling the momentum).
    """

    schedule: _Cyclical

    def __post_init__(self):
        if not isinstance(self.schedule, _Cyclical):
            raise ValueError(f"schedule must be a triangular, triangular2 or exp_range schedule; "
                             f"got {type(self.schedule).__name__}")

    def __call__(self, step: int) -> float:
        return self.schedule._wave(step, self.schedule.max_momentum, self.schedule.base_momentum)


triangular = Triangular
triangular2 = Triangular2
exp_range = ExpRange
