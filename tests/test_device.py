import random

import numpy as np
import pytest
import torch

from lrcourse import default_device, environment_report, seed_everything
from lrcourse import device
from lrcourse.device import cpu_quota, match_threads_to_cpu_quota, resolve_device


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


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_cpu_quota_reads_cgroup_v2_and_v1(tmp_path, monkeypatch, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(device, "CGROUP_ROOT", tmp_path)
    assert cpu_quota() == expected


def test_threads_are_lowered_to_the_quota_never_raised(tmp_path, monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(device, "CGROUP_ROOT", tmp_path)
    try:
        (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a CPU: one thread
        assert match_threads_to_cpu_quota() == 1 == torch.get_num_threads()
        assert "container quota: 0.5 CPUs" in str(environment_report("cpu"))
        torch.set_num_threads(before)
        (tmp_path / "cpu.max").write_text(f"{(before + 4) * 100000} 100000\n")
        assert match_threads_to_cpu_quota() == before
    finally:
        torch.set_num_threads(before)


def test_fractional_quota_is_rounded_down(tmp_path, monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(device, "CGROUP_ROOT", tmp_path)
    try:
        torch.set_num_threads(4)
        (tmp_path / "cpu.max").write_text("250000 100000\n")  # 2.5 CPUs: 2 threads, not 3
        assert match_threads_to_cpu_quota() == 2
    finally:
        torch.set_num_threads(before)
