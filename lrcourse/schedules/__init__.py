"""Learning-rate schedules as small, picklable, immutable callables: ``lr = schedule(step)``.

    import lrcourse.schedules as S

    schedule = S.one_cycle(max_lr=0.1, total_steps=1000)
    schedule(0), schedule(299), schedule.momentum(299)   # 0.004, 0.1, 0.85
    scheduler = S.to_lambda_lr(optimizer, schedule)      # a torch LambdaLR

Each schedule is a frozen dataclass built with keyword arguments (the lowercase names are
the classes), checked when built, and called with a 0-based step to give the absolute LR
of that step; its docstring has the formula. Modules: :mod:`.decay`, :mod:`.warmup`,
:mod:`.cyclical` (cyclical LRs, 1-cycle, SGDR), :mod:`.combine` (phases in normalized
time), :mod:`.adapters` (PyTorch schedulers, samples) and :mod:`.scaling` (the LR for a larger batch). ``lrcourse.plots.plot_schedule`` draws one.
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
from .cyclical import (
    CosineRestarts,
    ExpRange,
    OneCycle,
    Triangular,
    Triangular2,
    cosine_restarts,
    exp_range,
    one_cycle,
    triangular,
    triangular2,
)
from .decay import (
    Constant,
    Cosine,
    Exponential,
    InverseTime,
    LinearDecay,
    MultiStep,
    Polynomial,
    StepDecay,
    constant,
    cosine,
    exponential,
    inverse_time,
    linear_decay,
    multistep,
    polynomial,
    step_decay,
)
from .presets import PRESETS, Preset
from .scaling import gradual_warmup, scale_lr
from .warmup import InverseSqrt, LinearWarmup, inverse_sqrt, linear_warmup

__all__ = [
    "Combine",
    "Constant",
    "CosAnneal",
    "Cosine",
    "CosineRestarts",
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
