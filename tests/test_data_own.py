"""A learner's own data: arrays and tables (from_arrays), image folders (from_image_folder, cached),
and the FashionMNIST sample folder (write_sample_folder)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import lrcourse.data.folders as folders
from lrcourse.data import TensorData, from_arrays, from_image_folder, write_sample_folder


class Table:
    """Stands in for a pandas DataFrame or Series: NumPy reads it through ``__array__``."""

    def __init__(self, array):
        self.array = np.asarray(array, dtype=object)

    def __array__(self, dtype=None, copy=None):
        return self.array


# --- from_arrays ----------------------------------------------------------------------------------------------

def test_from_arrays_copies_features_as_float32_and_keeps_integer_labels():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    data = from_arrays(x, np.array([0, 2, 1, 2, 0, 1]))
    assert isinstance(data, TensorData) and data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    torch.testing.assert_close(data.x, torch.tensor(x, dtype=torch.float32))
    assert data.y.tolist() == [0, 2, 1, 2, 0, 1] and data.classes == ("0", "1", "2")
    x[0, 0] = 100.0
    assert data.x[0, 0] == 0.0  # a copy: changing the array later changes nothing
    # A split missing class 1 keeps the numbering, and classes= names all three.
    test = from_arrays(np.zeros((2, 2)), [0, 2], classes=["cat", "dog", "emu"])
    assert test.y.tolist() == [0, 2] and test.classes == ("cat", "dog", "emu")


def test_from_arrays_numbers_names_in_sorted_order_or_in_the_order_given():
    names = ["dog", "cat", "emu", "cat"]
    data = from_arrays(np.ones((4, 3)), names)
    assert data.classes == ("cat", "dog", "emu") and data.y.tolist() == [1, 0, 2, 0]
    ordered = from_arrays(np.ones((4, 3)), names, classes=("emu", "dog", "cat"))
    assert ordered.y.tolist() == [1, 2, 0, 2]


def test_from_arrays_reads_tables_tensors_lists_and_whole_floats():
    table = Table([[1, 2.5], [3, 4.0], [5, 6.0]])  # a table of mixed int and float columns
    data = from_arrays(table, Table(["b", "a", "b"]))
    torch.testing.assert_close(data.x, torch.tensor([[1, 2.5], [3, 4], [5, 6]]))
    assert data.y.tolist() == [1, 0, 1]
    from_tensor = from_arrays(torch.ones(3, 1, 4, 4, dtype=torch.float64), torch.tensor([0.0, 1.0, 1.0]))
    assert from_tensor.x.shape == (3, 1, 4, 4) and from_tensor.y.tolist() == [0, 1, 1]
    assert from_arrays([[0.0], [1.0]], [True, False]).y.tolist() == [1, 0]


ARRAYS_BAD = [  # (x, y, keyword arguments, error, what the message says)
    ("abc", [0, 1], {}, TypeError, "x must be a NumPy array"),
    (42, [0, 1], {}, TypeError, "x must be a NumPy array"),
    ([[1.0], [2.0, 3.0]], [0, 1], {}, ValueError, "x must be a rectangular array"),
    (np.array([["a", "b"], ["c", "d"]]), [0, 1], {}, ValueError, "x must hold numbers"),
    (np.ones((2, 2), dtype=complex), [0, 1], {}, ValueError, "x must hold numbers"),
    (np.ones(4), [0, 1, 0, 1], {}, ValueError, r"x must have shape \(N, features...\)"),
    (np.ones((0, 3)), [], {}, ValueError, "x must hold at least one example"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), [0, 1], {}, ValueError, "x holds 1 NaN or infinite values .*row 0"),
    (np.array([[1.0], [np.inf]]), [0, 1], {}, ValueError, "NaN or infinite"),
    (np.ones((2, 2)), np.array([[0], [1]]), {}, ValueError, r"y must have shape \(N,\)"),
    (np.ones((3, 2)), [0, 1], {}, ValueError, "x and y must hold as many examples"),
    (np.ones((2, 2)), 7, {}, TypeError, "y must be a NumPy array"),
    (np.ones((2, 2)), [0.5, 1.0], {}, ValueError, "y must hold class labels .*fractional"),
    (np.ones((2, 2)), [0.0, np.nan], {}, ValueError, "y must hold class labels"),
    (np.ones((2, 2)), [-1, 1], {}, ValueError, "y must hold class labels 0..K-1; got -1"),
    (np.ones((2, 2)), [0, 5], {"classes": ["a", "b"]}, ValueError, "y holds label 5 but classes names only 2"),
    (np.ones((2, 2)), ["a", "z"], {"classes": ["a", "b"]}, ValueError, r"labels missing from classes: \['z'\]"),
    (np.ones((2, 2)), [0, 1], {"classes": "ab"}, TypeError, "classes must be None or a sequence of class names"),
    (np.ones((2, 2)), [0, 1], {"classes": [0, 1]}, TypeError, "classes must be None or a sequence of class names"),
    (np.ones((2, 2)), [0, 1], {"classes": ["a", "a"]}, ValueError, "classes must not repeat a name"),
    (np.ones((2, 2)), [0, 0], {}, ValueError, "at least 2 classes"),
    (np.ones((2, 2)), ["a", "a"], {}, ValueError, "at least 2 classes"),
    (np.ones((2, 2)), Table([None, None]), {}, TypeError, "y must hold class labels"),
    (np.ones((2, 2)), np.array([1 + 1j, 0]), {}, TypeError, "y must hold class labels"),
]


@pytest.mark.parametrize("x, y, kwargs, error, match", ARRAYS_BAD)
def test_from_arrays_bad_arguments(x, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        from_arrays(x, y, **kwargs)


# --- from_image_folder ----------------------------------------------------------------------------------------

def image(size, mode="RGB", seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), "RGB" if mode == "RGB" else "L")


@pytest.fixture
def photos(tmp_path):
    """Two classes of mixed images, a text file, a broken PNG and a hidden checkpoint folder."""
    root = tmp_path / "photos"
    for folder in ("cat", "dog/more", ".ipynb_checkpoints"):
        (root / folder).mkdir(parents=True)
    image((40, 30)).save(root / "cat" / "a.png")
    image((28, 28), "L", seed=1).save(root / "cat" / "b.jpg")
    image((50, 50), seed=2).convert("P").save(root / "cat" / "c.gif")
    image((16, 64), seed=3).save(root / "dog" / "a.png")
    image((28, 28), "L", seed=4).save(root / "dog" / "more" / "b.png")  # sub-folders belong to their class
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    image((28, 28)).save(root / ".ipynb_checkpoints" / "x.png")
    (root / "cat" / ".hidden.png").write_bytes(b"")
    return root


def test_image_folder_is_decoded_converted_and_resized(photos, isolated_cache):
    with pytest.warns(UserWarning, match=r"skipped 2 file\(s\) .*broken.png, dog/notes.txt") as record:
        data = from_image_folder(photos)
    assert len(record) == 1  # one warning for all skipped files
    assert data.classes == ("cat", "dog") and data.y.tolist() == [0, 0, 0, 1, 1]
    assert data.x.shape == (5, 1, 28, 28) and data.x.dtype == torch.float32
    assert 0 <= float(data.x.min()) and float(data.x.max()) <= 1
    # A 28x28 grayscale image is kept exactly: pixels / 255.
    expected = np.asarray(Image.open(photos / "cat" / "b.jpg").convert("L"), dtype=np.float32) / 255
    torch.testing.assert_close(data.x[1, 0], torch.from_numpy(expected))
    rgb = from_image_folder(photos, size=16, grayscale=False, max_per_class=1)
    assert rgb.x.shape == (2, 3, 16, 16) and rgb.y.tolist() == [0, 1]
    expected = np.asarray(Image.open(photos / "cat" / "a.png").resize((16, 16), Image.Resampling.BILINEAR))
    torch.testing.assert_close(rgb.x[0], torch.from_numpy(expected / 255).permute(2, 0, 1).float())


def test_second_call_reads_the_cache_and_a_changed_folder_is_decoded_again(photos, isolated_cache, monkeypatch):
    decoded = []
    real_decode = folders._decode
    monkeypatch.setattr(folders, "_decode", lambda *args: decoded.append(args[0]) or real_decode(*args))
    with pytest.warns(UserWarning):
        first = from_image_folder(photos)
    assert len(decoded) == 7
    with pytest.warns(UserWarning, match="skipped 2"):  # the count is kept with the cached result
        second = from_image_folder(photos)
    assert len(decoded) == 7  # nothing decoded again
    assert torch.equal(first.x, second.x) and torch.equal(first.y, second.y) and first.classes == second.classes
    assert len(list((isolated_cache / "image-folders").glob("*.pt"))) == 1
    assert not list((isolated_cache / "image-folders").glob(".*"))  # no temporary file left
    (photos / "dog" / "notes.txt").unlink()
    with pytest.warns(UserWarning, match="skipped 1"):
        from_image_folder(photos)
    assert len(decoded) == 13
    from_image_folder(photos, max_per_class=1)  # other settings: their own entry
    assert len(decoded) == 15


def test_a_damaged_cache_entry_is_decoded_again(photos, isolated_cache):
    with pytest.warns(UserWarning):
        first = from_image_folder(photos)
    (entry,) = (isolated_cache / "image-folders").glob("*.pt")
    entry.write_bytes(b"garbage")
    with pytest.warns(UserWarning):
        again = from_image_folder(photos)
    assert torch.equal(first.x, again.x)
    torch.load(entry, weights_only=True)  # written again, whole


def test_image_folder_needs_two_classes_of_readable_images(tmp_path, isolated_cache):
    root = tmp_path / "pics"
    root.mkdir()
    with pytest.raises(ValueError, match="holds no class folders"):
        from_image_folder(root)
    (root / "only").mkdir()
    image((8, 8)).save(root / "only" / "1.png")
    with pytest.raises(ValueError, match="holds one class folder \\('only'\\)"):
        from_image_folder(root)
    (root / "empty").mkdir()
    with pytest.raises(ValueError, match=r"class folder\(s\) \['empty'\] hold no files"):
        from_image_folder(root)
    (root / "empty" / "readme.txt").write_text("no pictures here")
    with pytest.raises(ValueError, match="class folder 'empty' holds no readable image"):
        from_image_folder(root)
    assert not (isolated_cache / "image-folders").exists()  # nothing cached on error


IMAGE_FOLDER_BAD = [  # (keyword arguments, error, what the message says)
    (dict(path="does-not-exist"), ValueError, "path=.*does-not-exist' does not exist"),
    (dict(path="file.txt"), ValueError, "is a file; pass the folder"),
    (dict(path=3), TypeError, "path must be a folder path"),
    (dict(path=None), TypeError, "path must be a folder path"),
    (dict(path=""), ValueError, "path must be a folder path"),
    (dict(size=0), ValueError, "size must be an int >= 1"),
    (dict(size=28.0), TypeError, "size must be an int"),
    (dict(size=(28, 28)), TypeError, "size must be an int"),
    (dict(grayscale="yes"), TypeError, "grayscale must be True or False"),
    (dict(grayscale=None), TypeError, "grayscale must be True or False"),
    (dict(max_per_class=0), ValueError, "max_per_class must be an int >= 1"),
    (dict(max_per_class=2.5), TypeError, "max_per_class must be an int"),
]


@pytest.mark.parametrize("kwargs, error, match", IMAGE_FOLDER_BAD)
def test_from_image_folder_bad_arguments(kwargs, error, match, photos, isolated_cache, monkeypatch):
    monkeypatch.chdir(photos.parent)
    Path("file.txt").write_text("x")
    with pytest.raises(error, match=match):
        from_image_folder(**(dict(path=photos) | kwargs))
    assert not isolated_cache.exists()


# --- write_sample_folder --------------------------------------------------------------------------------------

@pytest.fixture
def sample_env(fmnist, tmp_path, monkeypatch):
    """The machine's FashionMNIST read in place (LRCOURSE_DATA), and an empty cache for image folders."""
    from lrcourse.data import find_fashion_mnist

    raw = find_fashion_mnist() / "FashionMNIST" / "raw"
    monkeypatch.setenv("LRCOURSE_DATA", str(raw))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "work").mkdir()
    return tmp_path / "work", raw


def test_sample_folder_holds_the_first_images_of_each_class(sample_env):
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    tmp_path, raw = sample_env
    folder = write_sample_folder(tmp_path / "sample", classes=3, per_class=20)
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["0-t-shirt-top", "1-trouser", "2-pullover"]
    data = from_image_folder(folder)
    assert data.classes == ("0-t-shirt-top", "1-trouser", "2-pullover") and len(data) == 60
    reference = TorchvisionFashionMNIST(str(raw.parent.parent), train=True)
    for label in range(3):
        first = reference.data[reference.targets == label][:20]
        assert torch.equal((data.x[data.y == label, 0] * 255).round().to(torch.uint8), first)


def test_sample_folder_is_written_once_replaced_when_asked_and_never_over_your_files(sample_env):
    tmp_path, _ = sample_env
    folder = write_sample_folder(tmp_path / "sample", classes=2, per_class=5)
    stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*.png")}
    assert len(stamps) == 10
    assert write_sample_folder(tmp_path / "sample", classes=2, per_class=5) == folder
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*.png")} == stamps  # the same sample: left as it is
    write_sample_folder(tmp_path / "sample", classes=4, per_class=3)  # an earlier sample is replaced
    assert len(list(folder.rglob("*.png"))) == 12
    assert json.loads((folder / folders.SAMPLE_MARKER).read_text())["classes"] == 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left
    (folder / "0-t-shirt-top" / "0000.png").unlink()  # a damaged sample is written again
    write_sample_folder(tmp_path / "sample", classes=4, per_class=3)
    assert len(list(folder.rglob("*.png"))) == 12
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("precious")
    with pytest.raises(ValueError, match="is not empty and is not a sample folder"):
        write_sample_folder(mine)
    assert os.listdir(mine) == ["thesis.txt"]
    (tmp_path / "empty").mkdir()
    assert len(list(write_sample_folder(tmp_path / "empty", per_class=2).rglob("*.png"))) == 6


def test_an_interrupted_sample_leaves_nothing_behind(sample_env, monkeypatch):
    tmp_path, _ = sample_env
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(folders, "_swap_into_place", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_sample_folder(tmp_path / "sample", per_class=2)
    assert list(tmp_path.iterdir()) == []


SAMPLE_BAD = [
    (dict(path=5), TypeError, "path must be a folder path"),
    (dict(path="a-file"), ValueError, "is a file; pass a new or empty folder"),
    (dict(classes=1), ValueError, r"classes must be an int in \[2, 10\]"),
    (dict(classes=11), ValueError, r"classes must be an int in \[2, 10\]"),
    (dict(classes="3"), TypeError, "classes must be an int"),
    (dict(per_class=0), ValueError, r"per_class must be an int in \[1, 6000\]"),
    (dict(per_class=6001), ValueError, r"per_class must be an int in \[1, 6000\]"),
    (dict(per_class=2.0), TypeError, "per_class must be an int"),
]


@pytest.mark.parametrize("kwargs, error, match", SAMPLE_BAD)
def test_write_sample_folder_bad_arguments(kwargs, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a-file").write_text("x")
    with pytest.raises(error, match=match):
        write_sample_folder(**(dict(path="sample") | kwargs))
    assert sorted(os.listdir(tmp_path)) == ["a-file"]
