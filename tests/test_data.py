import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest
import torch
from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

import lrcourse.data as data
from lrcourse import load_fashion_mnist
from lrcourse.data import DataNotFoundError, TensorData, batches, find_fashion_mnist, num_batches

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def copy_gz(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in data.FILES:
        shutil.copyfile(DEBIAN / f"{name}.gz", folder / f"{name}.gz")
    return folder


def test_splits_shapes_dtypes_and_scaled_range(fmnist):
    assert (len(fmnist.train), len(fmnist.val), len(fmnist.test)) == (50_000, 10_000, 10_000)
    for split in (fmnist.train, fmnist.val, fmnist.test):
        assert split.x.shape[1:] == (1, 28, 28) and split.x.dtype == torch.float32
        assert split.y.dtype == torch.int64 and int(split.y.min()) == 0 and int(split.y.max()) == 9
        assert float(split.x.min()) == 0.0 and float(split.x.max()) == 1.0
    assert fmnist.classes[0] == "T-shirt/top" and fmnist.classes[9] == "Ankle boot"


def test_raw_values_are_the_scaled_ones_times_255(fmnist):
    raw = load_fashion_mnist(scaled=False, device="cpu")
    assert float(raw.train.x.max()) == 255.0
    assert torch.equal(raw.train.x, raw.train.x.round())
    torch.testing.assert_close(raw.test.x / 255, fmnist.test.x)


def test_split_is_deterministic_for_a_seed_and_partitions_the_training_set(fmnist):
    again = load_fashion_mnist(device="cpu", seed=0)
    assert torch.equal(again.val.x, fmnist.val.x) and torch.equal(again.train.y, fmnist.train.y)
    other = load_fashion_mnist(device="cpu", seed=1)
    assert not torch.equal(other.val.y, fmnist.val.y)
    # Train and val together hold each training image once: compare per-image sums as a multiset.
    full = load_fashion_mnist(device="cpu", val_size=0)
    sums = lambda x: torch.sort(x.flatten(1).sum(1)).values  # noqa: E731
    assert torch.equal(sums(torch.cat([fmnist.train.x, fmnist.val.x])), sums(full.train.x))
    assert len(full.val) == 0


@pytest.mark.parametrize("val_size", [-1, 60_000, 2.5, True])
def test_bad_val_size_names_the_parameter(val_size):
    with pytest.raises(ValueError, match="val_size"):
        load_fashion_mnist(val_size=val_size, device="cpu")


@pytest.mark.parametrize("device", ["tpu", "gpu", "cuda:banana"])
def test_unknown_device_names_the_parameter(device):
    with pytest.raises(ValueError, match="device"):
        load_fashion_mnist(device=device)


def test_root_that_does_not_hold_the_files_is_a_clear_error(tmp_path, isolated_cache):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"root=.*does not hold FashionMNIST.*t10k-labels-idx1-ubyte"):
        find_fashion_mnist(root=tmp_path)


def test_root_with_gz_files_is_unpacked_into_the_cache(tmp_path, isolated_cache):
    folder = find_fashion_mnist(root=copy_gz(tmp_path / "mine"))
    assert folder == isolated_cache
    assert sorted(p.name for p in (folder / "FashionMNIST" / "raw").iterdir()) == sorted(data.FILES)
    assert len(TorchvisionFashionMNIST(str(folder), train=False)) == 10_000


def test_root_in_torchvision_layout_is_used_in_place(tmp_path, isolated_cache):
    unpacked = find_fashion_mnist(root=copy_gz(tmp_path / "mine"))
    in_place = tmp_path / "tv"
    shutil.copytree(unpacked / "FashionMNIST", in_place / "FashionMNIST")
    assert find_fashion_mnist(root=in_place) == in_place


def test_lrcourse_data_env_var_is_used_and_checked(tmp_path, isolated_cache, monkeypatch):
    monkeypatch.setenv("LRCOURSE_DATA", str(copy_gz(tmp_path / "env")))
    monkeypatch.setattr(data, "SYSTEM_DIRS", ())
    assert find_fashion_mnist(download=False) == isolated_cache
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="LRCOURSE_DATA="):
        find_fashion_mnist(download=False)


def test_cache_is_found_before_system_folders(tmp_path, isolated_cache, monkeypatch):
    copy_gz(isolated_cache)
    monkeypatch.setattr(data, "SYSTEM_DIRS", (tmp_path / "nothing-here",))
    assert find_fashion_mnist(download=False) == isolated_cache


def test_debian_folder_is_found(isolated_cache, monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIRS", (DEBIAN,))
    dataset = load_fashion_mnist(device="cpu", download=False)
    assert len(dataset.test) == 10_000 and (isolated_cache / "FashionMNIST" / "raw").is_dir()


def test_no_copy_and_no_download_says_the_three_ways(isolated_cache, monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIRS", ())
    with pytest.raises(DataNotFoundError) as error:
        load_fashion_mnist(device="cpu", download=False)
    message = str(error.value)
    assert "LRCOURSE_DATA" in message and "apt-get install dataset-fashion-mnist" in message
    assert "Connect to the internet" in message


def test_failed_download_is_a_clear_error(isolated_cache, monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIRS", ())
    # Nothing listens on port 9 (discard): the download fails at once, as offline.
    monkeypatch.setattr(TorchvisionFashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DataNotFoundError, match="the download failed"):
        find_fashion_mnist()


@pytest.fixture
def local_mirror(tmp_path):
    """Serve the Debian files over HTTP on localhost, as torchvision's mirror would."""
    served = copy_gz(tmp_path / "mirror")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_through_torchvision_fills_the_cache(isolated_cache, monkeypatch, local_mirror):
    served, url = local_mirror
    monkeypatch.setattr(data, "SYSTEM_DIRS", ())
    monkeypatch.setattr(TorchvisionFashionMNIST, "mirrors", [url])
    # torchvision checks each file's MD5; Debian recompressed the originals, so list theirs.
    resources = [(p.name, hashlib.md5(p.read_bytes()).hexdigest()) for p in sorted(served.iterdir())]
    monkeypatch.setattr(TorchvisionFashionMNIST, "resources", resources)
    assert find_fashion_mnist() == isolated_cache
    assert len(load_fashion_mnist(device="cpu", download=False).train) == 50_000


def test_batches_cover_every_example_once_in_a_seeded_order(fmnist):
    small = fmnist.val[:1000]
    order = lambda seed: torch.cat([y for _, y in batches(small, 64, shuffle=True,  # noqa: E731
                                                         generator=torch.Generator().manual_seed(seed))])
    assert torch.equal(torch.sort(order(0)).values, torch.sort(small.y).values)
    assert torch.equal(order(0), order(0)) and not torch.equal(order(0), order(1))
    sizes = [len(y) for _, y in batches(small, 64)]
    assert sizes == [64] * 15 + [40] and len(sizes) == num_batches(small, 64)
    assert [len(y) for _, y in batches(small, 64, drop_last=True)] == [64] * 15 == [64] * num_batches(small, 64, True)


def test_batches_stay_on_the_data_device_and_reject_bad_sizes(fmnist):
    x, y = next(batches(fmnist.val, 8, shuffle=True))
    assert x.device == fmnist.val.device and x.shape == (8, 1, 28, 28)
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(fmnist.val, 0))


def test_tensor_data_checks_lengths_and_slices_without_copy(fmnist):
    with pytest.raises(ValueError, match="same length"):
        TensorData(torch.zeros(3, 1, 28, 28), torch.zeros(2, dtype=torch.long))
    head = fmnist.test[:10]
    assert len(head) == 10 and head.x.data_ptr() == fmnist.test.x.data_ptr()


def test_command_line_reports_where_the_data_is_or_why_not(tmp_path, isolated_cache, capsys):
    from lrcourse.__main__ import main

    main(["data", "--root", str(copy_gz(tmp_path / "mine"))])
    assert str(isolated_cache) in capsys.readouterr().out
    with pytest.raises(SystemExit, match="does not hold FashionMNIST"):
        main(["data", "--root", str(tmp_path / "empty")])
