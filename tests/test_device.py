import random

import numpy as np
import pytest
import torch

from lrcourse import default_device, environment_report, seed_everything
from lrcourse.device import resolve_device


def test_choice_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert default_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cuda")


def test_resolve_device_accepts_names_and_rejects_what_is_missing(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device(None) == default_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("quantum")


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(()))

    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)


def test_environment_report_describes_this_machine():
    report = environment_report("cpu")
    assert report.torch_version == torch.__version__ and report.device == "cpu" and not report.gpu_in_use
    assert report.cpu_threads == torch.get_num_threads()
    assert "GPU in use" in str(report) and "<table>" in report._repr_html_()
