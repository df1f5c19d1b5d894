"""Learning-rate schedules as small, picklable, immutable callables: ``lr = schedule(step)``.

    import lrcourse.schedules as S

    schedule = S.one_cycle(max_lr=0.1, total_steps=1000)
    schedule(0), schedule(299), schedule.momentum(299)   # 0.004, 0.1, 0.85
    scheduler = S.to_lambda_lr(optimizer, schedule)      # a torch LambdaLR
    momentum = S.MomentumScheduler(optimizer, schedule.momentum)
    for x, y in batches:
        loss_fn(model(x), y).backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()                                 # after optimizer.step(), both
        momentum.step()

To resume from a checkpoint, save ``optimizer.state_dict()`` and ``scheduler.last_epoch``
(or each scheduler's ``state_dict()``); later load the optimizer's state and build
``S.to_lambda_lr(optimizer, schedule, last_step=saved_last_epoch)`` (and the
``MomentumScheduler`` likewise), or build them as before and load their states. A resumed
run gets the LRs and momenta of an uninterrupted one. Param groups can follow their own
schedules: ``S.to_lambda_lr(optimizer, [schedule_0, schedule_1])``.

Each schedule is a frozen dataclass built with keyword arguments (the lowercase names are
the classes), checked when built, and called with a 0-based step to give the absolute LR
of that step; its docstring has the formula and an example of where the scheduler steps in
a training loop. Modules: :mod:`.decay` (step, exponential, 1/t), :mod:`.anneal`
(polynomial, cosine), :mod:`.warmup`, :mod:`.cyclical` (Smith's cyclical LRs and their
momentum), :mod:`.one_cycle`, :mod:`.restarts` (SGDR), :mod:`.combine` (phases in
normalized time) and :mod:`.adapters` (PyTorch schedulers, samples) and :mod:`.scaling` (the LR for a
larger batch).
``lrcourse.plots.plot_schedule`` draws one.
"""

from ._common import Schedule
from .adapters import LRMultiplier, MomentumScheduler, sample, to_lambda_lr
from .combine import (
    Combine,
    CosAnneal,
    ExpAnneal,
    LinAnneal,
    Phase,
    combine,
    cos_anneal,
    exp_anneal,
    lin_anneal,
)
from .anneal import Cosine, LinearDecay, Polynomial, cosine, linear_decay, polynomial
from .cyclical import CyclicalMomentum, ExpRange, Triangular, Triangular2, exp_range, triangular, triangular2
from .decay import (
    Constant,
    Exponential,
    InverseTime,
    MultiStep,
    StepDecay,
    constant,
    exponential,
    inverse_time,
    multistep,
    step_decay,
)
from .one_cycle import OneCycle, one_cycle
from .presets import PRESETS, Preset
from .restarts import CosineRestarts, cosine_restarts
from .scaling import gradual_warmup, scale_lr
from .warmup import InverseSqrt, LinearWarmup, inverse_sqrt, linear_warmup

#: The classes a scheduler's saved state can hold, to allow when loading it with
#: ``weights_only=True`` (``torch.load``'s default): ``with torch.serialization.safe_globals(S.SAFE_GLOBALS):``.
SAFE_GLOBALS = (Constant, StepDecay, MultiStep, Exponential, InverseTime, Polynomial, LinearDecay, Cosine,
                InverseSqrt, LinearWarmup, Triangular, Triangular2, ExpRange, CyclicalMomentum, OneCycle,
                CosineRestarts, Combine, CosAnneal, LinAnneal, ExpAnneal, LRMultiplier)

__all__ = [
    "Combine",
    "Constant",
    "CosAnneal",
    "Cosine",
    "CosineRestarts",
    "CyclicalMomentum",
    "ExpAnneal",
    "ExpRange",
    "Exponential",
    "InverseSqrt",
    "InverseTime",
    "LRMultiplier",
    "LinAnneal",
    "LinearDecay",
    "LinearWarmup",
    "MomentumScheduler",
    "MultiStep",
    "OneCycle",
    "PRESETS",
    "Phase",
    "Polynomial",
    "Preset",
    "SAFE_GLOBALS",
    "Schedule",
    "StepDecay",
    "Triangular",
    "Triangular2",
    "combine",
    "constant",
    "cos_anneal",
    "cosine",
    "cosine_restarts",
    "exp_anneal",
    "exp_range",
    "exponential",
    "gradual_warmup",
    "inverse_sqrt",
    "inverse_time",
    "lin_anneal",
    "linear_decay",
    "linear_warmup",
    "multistep",
    "one_cycle",
    "polynomial",
    "sample",
    "scale_lr",
    "step_decay",
    "to_lambda_lr",
    "triangular",
    "triangular2",
]
