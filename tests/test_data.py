"""FashionMNIST: loading, the search order, the shared cache and what a damaged file gives;
TensorData and batches. Cache tests use small IDX files written here (never the network)."""

import functools
import gzip
import hashlib
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

import lrcourse.data.fashion as fashion
from lrcourse import load_fashion_mnist
from lrcourse.data import (FILES, DataNotFoundError, TensorData, batches, cache_dir, find_fashion_mnist,
                           num_batches)

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
SMALL = {"train": 30, "t10k": 10}


def write_idx(path: Path, array: np.ndarray, magic: int | None = None, dims=None, gz: bool = False) -> Path:
    """An IDX file of unsigned bytes; ``magic`` and ``dims`` override the true header."""
    magic = magic if magic is not None else 0x800 + array.ndim
    dims = dims if dims is not None else array.shape
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)
    data = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
    return path


def small_dataset(folder: Path, seed: int, gz: bool = True) -> dict[str, np.ndarray]:
    """Four valid IDX files (30 training, 10 test images); labels cycle through 0..9."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in SMALL.items():
        arrays[f"{split}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}-labels-idx1-ubyte"] = (np.arange(n) + seed) % 10
    for name, array in arrays.items():
        write_idx(folder / name, array, gz=gz)
    return arrays


@pytest.fixture
def small_world(tmp_path, isolated_cache, monkeypatch):
    """FashionMNIST shrunk to 30 + 10 images: a system folder holding it, an empty cache."""
    monkeypatch.setattr(fashion, "COUNTS", {name: SMALL[name.split("-")[0]] for name in FILES})
    monkeypatch.setattr(fashion, "TRAIN_SIZE", SMALL["train"])
    system = tmp_path / "system"
    arrays = small_dataset(system, seed=0)
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", (system,))
    return arrays


def assert_holds(dataset, arrays, val_size=5):
    """``dataset`` (scaled=False, seed 0) is exactly the images and labels in ``arrays``."""
    x, y = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train = order[val_size:].numpy()
    assert np.array_equal(dataset.train.x[:, 0].numpy(), x[train]) and np.array_equal(dataset.train.y, y[train])
    assert np.array_equal(dataset.test.x[:, 0].numpy(), arrays["t10k-images-idx3-ubyte"])
    assert np.array_equal(dataset.test.y.numpy(), arrays["t10k-labels-idx1-ubyte"])


def cache_state(cache: Path) -> dict:
    raw = cache / "FashionMNIST" / "raw"
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(raw.iterdir())} if raw.is_dir() else {}


# --- the real FashionMNIST ---------------------------------------------------------------------------------

def test_splits_shapes_dtypes_and_scaled_range(fmnist):
    assert (len(fmnist.train), len(fmnist.val), len(fmnist.test)) == (50_000, 10_000, 10_000)
    for split in (fmnist.train, fmnist.val, fmnist.test):
        assert split.x.shape[1:] == (1, 28, 28) and split.x.dtype == torch.float32
        assert split.y.dtype == torch.int64 and int(split.y.min()) == 0 and int(split.y.max()) == 9
        assert float(split.x.min()) == 0.0 and float(split.x.max()) == 1.0
        assert split.classes == fmnist.classes
    assert fmnist.classes[0] == "T-shirt/top" and fmnist.classes[9] == "Ankle boot"


def test_images_and_labels_are_torchvisions(fmnist):
    raw = load_fashion_mnist(scaled=False, device="cpu", val_size=0)
    reference = TorchvisionFashionMNIST(str(cache_dir()), train=True)
    order = torch.randperm(60_000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(raw.train.x[:, 0], reference.data[order].float())
    assert torch.equal(raw.train.y, reference.targets[order])


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


def test_debian_folder_fills_the_cache_once(isolated_cache, monkeypatch):
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", (DEBIAN,))
    dataset = load_fashion_mnist(device="cpu", download=False)
    assert len(dataset.test) == 10_000
    raw = isolated_cache / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir() if not p.name.startswith(".")) == sorted(FILES)
    assert len(TorchvisionFashionMNIST(str(find_fashion_mnist(download=False)), train=False)) == 10_000


# --- root= and LRCOURSE_DATA: read in place, never cached ---------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_root_is_read_in_place_and_writes_nothing(tmp_path, small_world, isolated_cache, gz, layout):
    root = tmp_path / "mine"
    arrays = small_dataset(root if layout == "flat" else root / "FashionMNIST" / "raw", seed=3, gz=gz)
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5, root=root), arrays)
    assert find_fashion_mnist(root=root) == root
    assert not isolated_cache.exists()


def test_root_is_honoured_when_the_cache_holds_fashion_mnist_and_never_replaces_it(tmp_path, small_world,
                                                                                  isolated_cache):
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5), small_world)  # fills the cache
    before = cache_state(isolated_cache)
    other = small_dataset(tmp_path / "mnist", seed=7)  # another valid dataset of the same shapes
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5, root=tmp_path / "mnist"), other)
    assert cache_state(isolated_cache) == before
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5), small_world)


def test_lrcourse_data_env_var_is_read_in_place_and_checked(tmp_path, small_world, isolated_cache, monkeypatch):
    arrays = small_dataset(tmp_path / "env", seed=5)
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path / "env"))
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5, download=False), arrays)
    assert not isolated_cache.exists()
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="LRCOURSE_DATA="):
        find_fashion_mnist(download=False)


def test_root_that_does_not_hold_the_files_is_a_clear_error(tmp_path, isolated_cache):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"root=.*does not hold FashionMNIST.*t10k-labels-idx1-ubyte"):
        find_fashion_mnist(root=tmp_path)


def _damage(kind):
    """Functions that write one bad file into a folder of good small ones; returns the bad file's name."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)

    def damage(folder: Path) -> str:
        name = "train-images-idx3-ubyte"
        if kind == "magic":
            write_idx(folder / name, images, magic=0x0803 + 0x1000, gz=True)
        elif kind == "labels magic":
            name = "train-labels-idx1-ubyte"
            write_idx(folder / name, np.arange(30) % 10, magic=0x0803, gz=True)
        elif kind == "header claims more":
            write_idx(folder / name, images, dims=(60_000, 28, 28), gz=True)
        elif kind == "truncated gz":
            write_idx(folder / name, images, gz=True)
            data = (folder / f"{name}.gz").read_bytes()
            (folder / f"{name}.gz").write_bytes(data[: len(data) // 2])
        elif kind == "not gzip":
            (folder / f"{name}.gz").write_bytes(b"this is not gzip data at all")
        elif kind == "empty":
            (folder / f"{name}.gz").unlink()
            (folder / name).write_bytes(b"")
        elif kind == "wrong image size":
            write_idx(folder / name, rng.integers(0, 256, (30, 32, 32)), gz=True)
        elif kind == "label out of range":
            name = "train-labels-idx1-ubyte"
            write_idx(folder / name, np.full(30, 11), gz=True)
        elif kind == "counts disagree":
            name = "train-labels-idx1-ubyte"
            write_idx(folder / name, np.arange(20) % 10, gz=True)
        return name

    return damage


BAD_FILES = {  # what is wrong -> what the error says
    "magic": "is not an IDX images file: its magic number",
    "labels magic": "is not an IDX labels file",
    "header claims more": "header says 60000 images .* but the file holds",
    "truncated gz": "is not a complete gzip file",
    "not gzip": "is not a complete gzip file",
    "empty": "too short to be an IDX",
    "wrong image size": "32x32 pixels",
    "label out of range": "labels up to 11",
    "counts disagree": "holds 30 images but .* holds 20 labels",
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_in_root_names_the_file_and_leaves_the_cache_alone(tmp_path, small_world, isolated_cache, kind):
    load_fashion_mnist(device="cpu", val_size=5)  # the cache now holds the (small) FashionMNIST
    before = cache_state(isolated_cache)
    root = tmp_path / "bad"
    small_dataset(root, seed=2)
    name = _damage(kind)(root)
    with pytest.raises(ValueError, match=BAD_FILES[kind]) as error:
        load_fashion_mnist(device="cpu", val_size=5, root=root)
    assert name in str(error.value)
    with pytest.raises(ValueError, match=name):
        find_fashion_mnist(root=root)
    assert cache_state(isolated_cache) == before
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5), small_world)


# --- the shared cache: checked before use, made again when it cannot be trusted --------------------------------

def test_the_cache_is_filled_once_and_then_used(small_world, isolated_cache):
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5, download=False), small_world)
    before = cache_state(isolated_cache)
    assert fashion.MANIFEST in before
    load_fashion_mnist(device="cpu", val_size=5, download=False)
    assert cache_state(isolated_cache) == before


def _truncate(raw):
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])


def _bad_magic(raw):  # same size, so only the magic number check catches it
    path = raw / "t10k-labels-idx1-ubyte"
    path.write_bytes(b"\0\0\x08\x03" + path.read_bytes()[4:])


def _foreign(raw):  # another valid dataset where FashionMNIST was (as an older lrcourse could leave it)
    small_dataset(raw, seed=9, gz=False)
    (raw / fashion.MANIFEST).unlink()


CORRUPTIONS = {
    "truncated file": _truncate,
    "wrong magic number": _bad_magic,
    "file missing": lambda raw: (raw / "train-labels-idx1-ubyte").unlink(),
    "no manifest": lambda raw: (raw / fashion.MANIFEST).unlink(),
    "garbled manifest": lambda raw: (raw / fashion.MANIFEST).write_text("[1, 2"),
    "manifest of a list": lambda raw: (raw / fashion.MANIFEST).write_text("[1, 2]"),
    "another dataset, unmarked": _foreign,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_a_damaged_or_foreign_cache_is_made_again(small_world, isolated_cache, corrupt):
    load_fashion_mnist(device="cpu", val_size=5, download=False)
    CORRUPTIONS[corrupt](isolated_cache / "FashionMNIST" / "raw")
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5, download=False), small_world)
    assert fashion._cache_is_valid(isolated_cache / "FashionMNIST" / "raw")


def test_a_bad_system_folder_names_its_file(small_world, tmp_path, monkeypatch):
    bad = tmp_path / "bad-system"
    small_dataset(bad, seed=0)
    name = _damage("header claims more")(bad)
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", (bad,))
    with pytest.raises(ValueError, match=name):
        load_fashion_mnist(device="cpu", val_size=5)


def test_two_loads_at_once_fill_the_cache_once(small_world, isolated_cache):
    results, errors = [], []

    def load():
        try:
            results.append(load_fashion_mnist(scaled=False, device="cpu", val_size=5, download=False))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 3
    for dataset in results:
        assert_holds(dataset, small_world)


def test_no_copy_and_no_download_says_the_three_ways(isolated_cache, monkeypatch):
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", ())
    with pytest.raises(DataNotFoundError) as error:
        load_fashion_mnist(device="cpu", download=False)
    message = str(error.value)
    assert "LRCOURSE_DATA" in message and "apt-get install dataset-fashion-mnist" in message
    assert "Connect to the internet" in message


def test_failed_download_is_a_clear_error(isolated_cache, monkeypatch):
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", ())
    # Nothing listens on port 9 (discard): the download fails at once, as offline.
    monkeypatch.setattr(TorchvisionFashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DataNotFoundError, match="the download failed"):
        find_fashion_mnist()


@pytest.fixture
def local_mirror(tmp_path):
    """Serve small gzipped IDX files over HTTP on localhost, as torchvision's mirror would."""
    served = tmp_path / "mirror"
    arrays = small_dataset(served, seed=4)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/", arrays
    server.shutdown()


def test_download_through_torchvision_fills_the_cache(small_world, isolated_cache, monkeypatch, local_mirror):
    served, url, arrays = local_mirror
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", ())
    monkeypatch.setattr(TorchvisionFashionMNIST, "mirrors", [url])
    # torchvision checks each file's MD5 against its list: list the served files'.
    resources = [(p.name, hashlib.md5(p.read_bytes()).hexdigest()) for p in sorted(served.iterdir())]
    monkeypatch.setattr(TorchvisionFashionMNIST, "resources", resources)
    assert find_fashion_mnist() == isolated_cache
    assert_holds(load_fashion_mnist(scaled=False, device="cpu", val_size=5, download=False), arrays)
    manifest = json.loads((isolated_cache / "FashionMNIST" / "raw" / fashion.MANIFEST).read_text())
    assert sorted(manifest) == sorted(FILES)


def test_command_line_reports_where_the_data_is_or_why_not(tmp_path, small_world, isolated_cache, capsys):
    from lrcourse.__main__ import main

    small_dataset(tmp_path / "mine", seed=1)
    main(["data", "--root", str(tmp_path / "mine")])
    assert str(tmp_path / "mine") in capsys.readouterr().out and not isolated_cache.exists()
    main(["data"])
    assert str(isolated_cache / "FashionMNIST" / "raw") in capsys.readouterr().out
    with pytest.raises(SystemExit, match="does not hold FashionMNIST"):
        main(["data", "--root", str(tmp_path / "empty")])
    _damage("truncated gz")(tmp_path / "mine")
    with pytest.raises(SystemExit, match="train-images-idx3-ubyte.gz"):
        main(["data", "--root", str(tmp_path / "mine")])


# --- bad arguments ---------------------------------------------------------------------------------------------

LOAD_BAD = [  # (keyword arguments, error type, what the message says)
    (dict(val_size=-1), ValueError, "val_size must be an int >= 0"),
    (dict(val_size=60_000), ValueError, "val_size must be an int with 0 <= val_size < 60000"),
    (dict(val_size=2.5), TypeError, "val_size must be an int"),
    (dict(val_size=True), TypeError, "val_size must be an int"),
    (dict(val_size="100"), TypeError, "val_size must be an int"),
    (dict(device="tpu"), ValueError, "device must be"),
    (dict(device="gpu"), ValueError, "device must be"),
    (dict(device="cuda:banana"), ValueError, "device must be"),
    (dict(device=3.5), ValueError, "device must be"),
    (dict(scaled="yes"), TypeError, "scaled must be True or False"),
    (dict(scaled=1), TypeError, "scaled must be True or False"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    (dict(seed=0.5), TypeError, "seed must be an int"),
    (dict(seed=None), TypeError, "seed must be an int"),
    (dict(root=42), TypeError, "root must be a folder path"),
    (dict(root=b"/tmp"), TypeError, "root must be a folder path"),
    (dict(root=""), ValueError, "root must be a folder path"),
    (dict(root="/no/such/folder"), ValueError, "root='/no/such/folder' does not hold FashionMNIST"),
    (dict(download="no"), TypeError, "download must be True or False"),
]


@pytest.mark.parametrize("kwargs, error, match", LOAD_BAD)
def test_load_fashion_mnist_bad_arguments(kwargs, error, match, isolated_cache):
    with pytest.raises(error, match=match):
        load_fashion_mnist(**kwargs)
    assert not isolated_cache.exists()  # refused before anything was written


def test_val_size_is_checked_against_the_images_root_holds(tmp_path, isolated_cache):
    small_dataset(tmp_path / "small", seed=0)
    with pytest.raises(ValueError, match="val_size must be an int with 0 <= val_size < 30 .*root"):
        load_fashion_mnist(device="cpu", root=tmp_path / "small")  # val_size=10_000 by default


FIND_BAD = [
    (dict(root=3), TypeError, "root must be a folder path"),
    (dict(download=None), TypeError, "download must be True or False"),
    (dict(root="/no/such/folder"), ValueError, "does not hold FashionMNIST"),
]


@pytest.mark.parametrize("kwargs, error, match", FIND_BAD)
def test_find_fashion_mnist_bad_arguments(kwargs, error, match, isolated_cache):
    with pytest.raises(error, match=match):
        find_fashion_mnist(**kwargs)


# --- TensorData and batches ------------------------------------------------------------------------------------

def test_batches_cover_every_example_once_in_a_seeded_order(fmnist):
    small = fmnist.val[:1000]
    order = lambda seed: torch.cat([y for _, y in batches(small, 64, shuffle=True,  # noqa: E731
                                                         generator=torch.Generator().manual_seed(seed))])
    assert torch.equal(torch.sort(order(0)).values, torch.sort(small.y).values)
    assert torch.equal(order(0), order(0)) and not torch.equal(order(0), order(1))
    sizes = [len(y) for _, y in batches(small, 64)]
    assert sizes == [64] * 15 + [40] and len(sizes) == num_batches(small, 64)
    assert [len(y) for _, y in batches(small, 64, drop_last=True)] == [64] * 15 == [64] * num_batches(small, 64, True)


def test_batches_stay_on_the_data_device(fmnist):
    x, y = next(batches(fmnist.val, 8, shuffle=True))
    assert x.device == fmnist.val.device and x.shape == (8, 1, 28, 28)


TINY = TensorData(torch.zeros(10, 2), torch.zeros(10, dtype=torch.long))
BATCHES_BAD = [
    (dict(data=TINY.x), TypeError, "data must be a TensorData"),
    (dict(data=None), TypeError, "data must be a TensorData"),
    (dict(batch_size=0), ValueError, "batch_size must be an int >= 1"),
    (dict(batch_size=-3), ValueError, "batch_size must be an int >= 1"),
    (dict(batch_size=2.0), TypeError, "batch_size must be an int"),
    (dict(batch_size=True), TypeError, "batch_size must be an int"),
    (dict(shuffle="yes"), TypeError, "shuffle must be True or False"),
    (dict(generator=0), TypeError, "generator must be None or a torch.Generator"),
    (dict(drop_last=1), TypeError, "drop_last must be True or False"),
]


@pytest.mark.parametrize("kwargs, error, match", BATCHES_BAD)
def test_batches_bad_arguments_raise_at_the_call(kwargs, error, match):
    arguments = dict(data=TINY, batch_size=4) | kwargs
    with pytest.raises(error, match=match):
        batches(**arguments)  # not at the first next(): before anything runs
    if "generator" not in kwargs and "shuffle" not in kwargs:
        with pytest.raises(error, match=match):
            num_batches(arguments["data"], arguments["batch_size"], arguments.get("drop_last", False))


def test_tensor_data_checks_and_keeps_classes_through_slices(fmnist):
    head = fmnist.test[:10]
    assert len(head) == 10 and head.x.data_ptr() == fmnist.test.x.data_ptr()
    assert head.classes == fmnist.classes and head.to("cpu").classes == fmnist.classes
    named = TensorData(torch.zeros(2, 1), torch.tensor([0, 1]), ["a", "b"])
    assert named.classes == ("a", "b") and TensorData(torch.zeros(1), torch.zeros(1)).classes is None
    with pytest.raises(AttributeError):
        named.classes = ("c",)  # frozen


TENSOR_DATA_BAD = [
    ((torch.zeros(3, 1, 28, 28), torch.zeros(2, dtype=torch.long)), ValueError, "same length"),
    ((np.zeros((3, 2)), torch.zeros(3)), TypeError, "x must be a torch.Tensor.*from_arrays"),
    ((torch.zeros(3, 2), [0, 1, 2]), TypeError, "y must be a torch.Tensor"),
    ((torch.zeros(2, 1), torch.zeros(2), "ab"), TypeError, "classes must be None or a sequence"),
    ((torch.zeros(2, 1), torch.zeros(2), [0, 1]), TypeError, "classes must be None or a sequence"),
]


@pytest.mark.parametrize("args, error, match", TENSOR_DATA_BAD)
def test_tensor_data_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        TensorData(*args)
