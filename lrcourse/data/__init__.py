"""Data for lrcourse: FashionMNIST as tensors on the device, your own arrays and image folders,
and a batch iterator that replaces DataLoader.

- :mod:`~lrcourse.data.tensors`: :class:`TensorData`, :func:`batches`, :func:`num_batches`
- :mod:`~lrcourse.data.fashion`: :func:`load_fashion_mnist`, :func:`find_fashion_mnist`
- :mod:`~lrcourse.data.arrays`: :func:`from_arrays`
- :mod:`~lrcourse.data.folders`: :func:`from_image_folder`, :func:`write_sample_folder`
- :mod:`~lrcourse.data.files`: :func:`cache_dir`, :func:`write_atomically`
"""

from .arrays import from_arrays
from .fashion import (CLASSES, FILES, SYSTEM_DIRS, TRAIN_SIZE, DataNotFoundError, FashionMNIST, find_fashion_mnist,
                      load_fashion_mnist)
from .files import cache_dir, write_atomically, write_bytes_atomically
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
    "write_atomically",
    "write_bytes_atomically",
    "write_sample_folder",
]
