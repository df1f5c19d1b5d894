"""lrcourse: an executable course on the learning rate, and the toolkit behind it."""

from .callbacks import Callback, FitState, History
from .data import FashionMNIST, TensorData, batches, load_fashion_mnist
from .device import default_device, environment_report, seed_everything
from .models import MLP, SmallCNN
from .plateau import EarlyStopping, ReduceLROnPlateau
from .schedules.scaling import scale_lr
from .snapshots import SnapshotEnsemble, SnapshotSaver
from .metrics import evaluate
from .train import fit

__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    """``%load_ext lrcourse``; see :mod:`lrcourse.extension` (imported only here, to keep
    ``import lrcourse`` free of matplotlib and IPython)."""
    from .extension import load_ipython_extension as load

    load(ipython)

__all__ = [
    "Callback",
    "EarlyStopping",
    "FashionMNIST",
    "FitState",
    "History",
    "MLP",
    "ReduceLROnPlateau",
    "SmallCNN",
    "SnapshotEnsemble",
    "SnapshotSaver",
    "TensorData",
    "batches",
    "default_device",
    "environment_report",
    "evaluate",
    "fit",
    "load_fashion_mnist",
    "load_ipython_extension",
    "scale_lr",
    "seed_everything",
]
