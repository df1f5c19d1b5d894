"""Data for lrcourse: FashionMNIST as tensors on the device, your own arrays and image folders,
and a batch iterator that replaces DataLoader.

- :mod:`~lrcourse.data.tensors`: :class:`TensorData`, :func:`batches`, :func:`num_batches`
- :mod:`~lrcourse.data.fashion`: :func:`load_fashion_mnist`, :func:`find_fashion_mnist`
- :mod:`~lrcourse.data.arrays`: :func:`from_arrays`
- :mod:`~lrcourse.data.folders`: :func:`from_image_folder`, :func:`write_sample_folder`
- :func:`cache_dir` (from :mod:`lrcourse.files`, where files are written atomically)
"""

from .arrays import from_arrays
from .fashion import (CLASSES, FILES, SYSTEM_DIRS, TRAIN_SIZE, DataNotFoundError, FashionMNIST, find_fashion_mnist,
                      load_fashion_mnist)
from ..files import cache_dir
from .folders import from_image_folder, write_sample_folder
from .tensors import TensorData, batches, num_batches

__all__ = [
    "CLASSES",
    "FILES",
    "SYSTEM_DIRS",
    "TRAIN_SIZE",
    "DataNotFoundError",
    "FashionMNIST",
    "TensorData",
    "batches",
    "cache_dir",
    "find_fashion_mnist",
    "from_arrays",
    "from_image_folder",
    "load_fashion_mnist",
    "num_batches",
    "write_sample_folder",
]
