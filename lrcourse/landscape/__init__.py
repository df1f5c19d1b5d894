"""The loss landscape: how curved it is (:mod:`.curvature`: the sharpness, by power iteration on
Hessian-vector products) and what it looks like along lines and planes through the weights
(:mod:`.lines`: interpolation between two states, filter-normalized slices, an optimizer's path)."""

from .curvature import SharpnessMonitor, TopEigen, sharpness, top_eigen
from .lines import (Interpolation, LossSlice, interpolate, loss_slice, pca_directions, project,
                    random_direction)

__all__ = ["Interpolation", "LossSlice", "SharpnessMonitor", "TopEigen", "interpolate", "loss_slice",
           "pca_directions", "project", "random_direction", "sharpness", "top_eigen"]
