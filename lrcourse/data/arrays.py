"""Your own arrays (NumPy, tensors, a pandas table) as :class:`TensorData`."""

from __future__ import annotations

import numpy as np
import torch

from .tensors import TensorData


def _as_array(name: str, value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (str, bytes)) or not (hasattr(value, "__array__") or isinstance(value, (list, tuple))):
        raise TypeError(f"{name} must be a NumPy array, a torch.Tensor, a list or a table (e.g. a pandas "
                        f"DataFrame); got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array: {error}") from None
    if array.dtype == object:  # a table of mixed columns, or Python objects: infer the type again
        array = np.asarray(array.tolist())
    return array


def _features(x) -> np.ndarray:
    x = _as_array("x", x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"x must hold numbers (bool, int or float); got dtype {x.dtype} "
                         "(encode text or category columns as numbers first)")
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, features...), one row per example; got shape {x.shape} "
                         "(for a single feature use x[:, None])")
    if len(x) == 0:
        raise ValueError("x must hold at least one example; got 0 rows")
    x = x.astype(np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ValueError(f"x holds {int(bad.sum())} NaN or infinite values (the first in row {row}): fill or "
                         "drop them first, or training turns to NaN")
    return x


def _labels(y, n: int, classes) -> tuple[np.ndarray, tuple[str, ...]]:
    y = _as_array("y", y)
    if y.ndim != 1:
        raise ValueError(f"y must have shape (N,), one label per example; got shape {y.shape} (try y.ravel())")
    if len(y) != n:
        raise ValueError(f"x and y must hold as many examples; got {n} rows of x and {len(y)} labels")
    if classes is not None:
        if isinstance(classes, str) or not all(isinstance(c, str) for c in classes):
            raise TypeError(f"classes must be None or a sequence of class names (str); got {classes!r}")
        classes = tuple(classes)
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes must not repeat a name; got {classes!r}")
    if y.dtype.kind in "US":  # names: numbered in sorted order, or in the order of classes
        names = [str(label) for label in y]
        classes = classes if classes is not None else tuple(sorted(set(names)))
        index = {name: k for k, name in enumerate(classes)}
        unknown = sorted(set(names) - index.keys())
        if unknown:
            raise ValueError(f"y holds labels missing from classes: {unknown[:5]}")
        labels = np.array([index[name] for name in names], dtype=np.int64)
    elif y.dtype.kind in "biuf":  # numbers: kept as they are, so two splits agree
        if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
            raise ValueError("y must hold class labels (whole numbers 0..K-1 or names); got fractional, NaN or "
                             "infinite values: lrcourse trains classifiers, not regressions")
        labels = y.astype(np.int64)
        if labels.min() < 0:
            raise ValueError(f"y must hold class labels 0..K-1; got {int(labels.min())}")
        count = len(classes) if classes is not None else int(labels.max()) + 1
        if labels.max() >= count:
            raise ValueError(f"y holds label {int(labels.max())} but classes names only {count} classes "
                             f"(0..{count - 1})")
        classes = classes if classes is not None else tuple(str(k) for k in range(count))
    else:
        raise TypeError(f"y must hold class labels (ints or names); got dtype {y.dtype}")
    if len(classes) < 2:
        raise ValueError(f"y must hold at least 2 classes to classify; got {list(classes)}")
    return labels, classes


def from_arrays(x, y, classes=None) -> TensorData:
    """Features ``x`` and class labels ``y`` as :class:`TensorData` on the CPU (copied; call
    ``.to(device)`` to move them). Accepts NumPy arrays, tensors, nested lists, or tables such
    as a pandas ``DataFrame`` and ``Series``.

    Args:
        x: shape (N, features...) of numbers, no NaN or inf; becomes float32. Images go as
            (N, channels, height, width).
        y: shape (N,), one label per example. Whole numbers are kept as they are and must lie
            in 0..K-1 (K = ``len(classes)``, else the largest label + 1), so a test split keeps
            the training split's numbering. Names (strings) are numbered in sorted order, or in
            the order of ``classes``: pass the same ``classes`` to number two splits alike.
        classes: the class names, ``classes[k]`` naming label ``k``; by default the sorted names,
            or "0", "1", ... for numbers.

    Example:
        >>> data = from_arrays(np.random.rand(6, 4), ["cat", "dog", "cat", "emu", "dog", "cat"])
        >>> data.classes, data.y.tolist()
        (('cat', 'dog', 'emu'), [0, 1, 0, 2, 1, 0])
    """
    features = _features(x)
    labels, names = _labels(y, len(features), classes)
    return TensorData(torch.from_numpy(features), torch.from_numpy(labels), names)
