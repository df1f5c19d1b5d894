r"""The 1-cycle policy: one rise to a large LR and a long descent far below the start, with
the momentum cycled the other way.

The schedule is a frozen dataclass called with a 0-based step, returning the absolute LR for
that step; built from :mod:`.combine`'s phases. The example assumes a ``model``, an
``optimizer`` (SGD with momentum), a ``loss_fn`` and a list of ``batches``.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field

from ._common import check_at_least, check_between, check_int, check_positive
from .combine import Combine, CosAnneal, LinAnneal


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

    Give the length as ``total_steps``, or as ``epochs`` and ``steps_per_epoch`` (then
    ``total_steps = epochs * steps_per_epoch``), exactly one of the two, as ``OneCycleLR``.

    Args:
        max_lr (float): the peak LR; > 0.
        total_steps (int): steps of training; the schedule is defined for steps
            ``0 .. total_steps``. Or give:
        epochs (int): epochs of training; >= 1, with
        steps_per_epoch (int): optimizer steps per epoch; >= 1.
        pct_start (float): share of the steps spent rising, in ``(0, 1)``, with
            ``pct_start * total_steps > 1``. Default: 0.3.
        anneal (str): ``"cos"`` or ``"linear"`` (PyTorch's ``anneal_strategy``). Default: "cos".
        div_factor (float): the first LR is ``max_lr / div_factor``; >= 1. Default: 25.
        final_div_factor (float): the last LR is the first one divided by this; >= 1. Default: 1e4.
        three_phase (bool): come back to the first LR before the final descent. Default: False.
        base_momentum (float): momentum at the peak LR, in ``[0, 1)``. Default: 0.85.
        max_momentum (float): momentum at the start and end, in ``[base_momentum, 1)``. Default: 0.95.

    Example:
        >>> schedule = S.one_cycle(max_lr=0.1, epochs=10, steps_per_epoch=len(batches))
        >>> schedule.total_steps, schedule(0), schedule(8), schedule(29)  # peak at 0.3 * 30 - 1
        (30, 0.004, 0.1, 4e-07)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> momentum = S.MomentumScheduler(optimizer, schedule.momentum)  # optional
        >>> for epoch in range(10):
        ...     for x, y in batches:
        ...         loss_fn(model(x), y).backward()
        ...         optimizer.step()
        ...         optimizer.zero_grad()
        ...         scheduler.step()  # after every optimizer.step(), not once an epoch
        ...         momentum.step()

    References: Smith & Topin, *Super-Convergence: Very Fast Training of Neural Networks
    Using Large Learning Rates*, 2019; Smith, *A Disciplined Approach to Neural Network
    Hyper-Parameters: Part 1*, 2018 (cycling the momentum).
    """

    max_lr: float
    total_steps: int | None = None
    epochs: InitVar[int | None] = None
    steps_per_epoch: InitVar[int | None] = None
    pct_start: float = 0.3
    anneal: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    momentum: Combine = field(init=False, repr=False, compare=False)
    _lr: Combine = field(init=False, repr=False, compare=False)

    def __post_init__(self, epochs: int | None, steps_per_epoch: int | None):
        check_positive("max_lr", self.max_lr)
        if self.total_steps is not None:
            if epochs is not None or steps_per_epoch is not None:
                raise ValueError(f"total_steps cannot be given with epochs and steps_per_epoch: give one or the "
                                 f"other; got total_steps={self.total_steps!r}, epochs={epochs!r}, "
                                 f"steps_per_epoch={steps_per_epoch!r}")
            check_int("total_steps", self.total_steps, 1)
        elif epochs is None or steps_per_epoch is None:
            raise ValueError(f"total_steps, or both epochs and steps_per_epoch, must be given; got "
                             f"epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}")
        else:
            check_int("epochs", epochs, 1)
            check_int("steps_per_epoch", steps_per_epoch, 1)
            object.__setattr__(self, "total_steps", int(epochs) * int(steps_per_epoch))
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


one_cycle = OneCycle
