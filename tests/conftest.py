import pytest

import lrcourse


@pytest.fixture(scope="session")
def fmnist():
    """The real FashionMNIST, loaded once for the whole session, on the CPU."""
    return lrcourse.load_fashion_mnist(device="cpu")


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty cache and no LRCOURSE_DATA, so each test sees only the sources it sets up."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LRCOURSE_DATA", raising=False)
    return tmp_path / "cache" / "lrcourse"


