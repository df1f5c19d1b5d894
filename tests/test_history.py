"""History's summaries: epochs and steps to reach a target accuracy."""

import pytest

from lrcourse.callbacks import History


def history(val, train=None):
    return History(steps_per_epoch=7, val_accuracy=list(val), train_accuracy=list(train or val))


@pytest.mark.parametrize("val, target, epochs", [
    ([0.5, 0.8, 0.7, 0.9], 0.8, 2),      # reached exactly counts, at the first epoch that does
    ([0.5, 0.8, 0.7, 0.9], 0.85, 4),
    ([0.9, 0.1], 0.5, 1),                # falling back later does not matter
    ([0.5, 0.6], 0.61, None),
    ([], 0.1, None),
    ([0.3], 0.0, 1),
])
def test_epochs_and_steps_to_reach(val, target, epochs):
    h = history(val)
    assert h.epochs_to_reach(target) == epochs
    assert h.steps_to_reach(target) == (None if epochs is None else 7 * epochs)


def test_train_accuracy_is_read_when_asked():
    h = history([0.1, 0.2], train=[0.1, 0.95])
    assert h.epochs_to_reach(0.9) is None and h.epochs_to_reach(0.9, metric="train_accuracy") == 2
    assert h.steps_to_reach(0.9, metric="train_accuracy") == 14


@pytest.mark.parametrize("target, metric, error, words", [
    (1.5, "val_accuracy", ValueError, "target must be a finite number in [0, 1]; got 1.5"),
    (-0.1, "val_accuracy", ValueError, "target must be a finite number in [0, 1]; got -0.1"),
    (float("nan"), "val_accuracy", ValueError, "target must be a finite number in [0, 1]; got nan"),
    (True, "val_accuracy", TypeError, "target must be a number in [0, 1]; got bool True"),
    ("0.8", "val_accuracy", TypeError, "target must be a number in [0, 1]; got str '0.8'"),
    (0.8, "val_loss", ValueError, "metric must be one of ('val_accuracy', 'train_accuracy'); got 'val_loss'"),
])
def test_bad_arguments(target, metric, error, words):
    for method in (History.epochs_to_reach, History.steps_to_reach):
        with pytest.raises(error) as raised:
            method(history([0.5]), target, metric)
        assert words in str(raised.value)
