"""The architecture presets: each builds its paper's schedule, with the numbers the paper gives."""

import pickle

import pytest

import lrcourse.schedules as S

STEPS_PER_EPOCH = 100

COURSE_ORDER = ["alexnet", "vgg", "resnet", "inception_v3", "densenet", "mobilenet_v2", "transformer", "bert"]

# Where a preset warms up, its first step is not its LR: the paper's formula at its step 1 for
# the Transformer; the course's linear warm-up (equal increments from lr / (w + 1)) for BERT.
WARMUP_START = {
    "transformer": 512**-0.5 * 4000**-1.5,
    "bert": 1e-4 / 10_001,
}


def transformer_paper(step_num):
    """Vaswani et al. 2017, eq. 3, with the paper's 1-based step_num."""
    return 512**-0.5 * min(step_num**-0.5, step_num * 4000**-1.5)


def test_presets_in_course_order():
    assert list(S.PRESETS) == COURSE_ORDER


@pytest.mark.parametrize("key", COURSE_ORDER)
def test_preset_is_documented(key):
    preset = S.PRESETS[key]
    assert isinstance(preset, S.Preset)
    assert preset.name and preset.paper and preset.source and preset.optimizer and preset.notes_say
    assert preset.verified or "not verified" in preset.schedule_text.lower()


@pytest.mark.parametrize("key", COURSE_ORDER)
def test_first_lr(key):
    preset = S.PRESETS[key]
    first = preset.schedule(STEPS_PER_EPOCH)(0)
    assert first == pytest.approx(WARMUP_START.get(key, preset.lr), rel=1e-12)


def test_schedule_needs_whole_positive_epochs():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        S.PRESETS["resnet"].schedule(0)


def test_presets_and_their_schedules_pickle():
    for preset in S.PRESETS.values():
        schedule = pickle.loads(pickle.dumps(preset)).schedule(STEPS_PER_EPOCH)
        assert schedule(1234) == preset.schedule(STEPS_PER_EPOCH)(1234)


def test_transformer_peaks_at_paper_step_4000():
    schedule = S.PRESETS["transformer"].schedule(STEPS_PER_EPOCH)
    lrs = [schedule(t) for t in range(10_000)]
    peak = 512**-0.5 * 4000**-0.5
    assert max(lrs) == pytest.approx(peak, rel=0.01)
    assert max(lrs) == pytest.approx(7.0e-4, rel=0.01)
    assert lrs.index(max(lrs)) == 3999  # the paper's step 4000
    for t in (0, 1, 999, 3998, 3999, 4000, 9999, 99_999):
        assert schedule(t) == pytest.approx(transformer_paper(t + 1), rel=1e-12)


def test_bert_warms_up_to_1e_4_then_decays_to_0_at_one_million():
    schedule = S.PRESETS["bert"].schedule(STEPS_PER_EPOCH)
    assert schedule(9_999) < 1e-4
    assert schedule(10_000) == pytest.approx(1e-4, rel=1e-12)
    assert schedule(505_000) == pytest.approx(0.5e-4, rel=1e-12)
    assert schedule(999_999) > 0
    assert schedule(1_000_000) == 0


def test_inception_v3_staircase_every_two_epochs():
    schedule = S.PRESETS["inception_v3"].schedule(STEPS_PER_EPOCH)
    assert schedule(2 * STEPS_PER_EPOCH - 1) == pytest.approx(0.045)
    assert schedule(4 * STEPS_PER_EPOCH - 1) == pytest.approx(0.045 * 0.94)
    assert schedule(4 * STEPS_PER_EPOCH) == pytest.approx(0.045 * 0.94**2)


def test_densenet_divides_at_epochs_30_and_60_only():
    schedule = S.PRESETS["densenet"].schedule(STEPS_PER_EPOCH)
    epochs = {e: schedule(e * STEPS_PER_EPOCH) for e in (29, 30, 59, 60, 89)}
    assert epochs == pytest.approx({29: 0.1, 30: 0.01, 59: 0.01, 60: 0.001, 89: 0.001})


def test_resnet_stand_in_divides_every_30_epochs():
    schedule = S.PRESETS["resnet"].schedule(STEPS_PER_EPOCH)
    assert [schedule(e * STEPS_PER_EPOCH) for e in (0, 30, 60, 89)] == pytest.approx([0.1, 0.01, 0.001, 0.001])


def test_mobilenet_v2_decays_per_epoch():
    schedule = S.PRESETS["mobilenet_v2"].schedule(STEPS_PER_EPOCH)
    assert schedule(STEPS_PER_EPOCH - 1) == pytest.approx(0.045)
    assert schedule(10 * STEPS_PER_EPOCH) == pytest.approx(0.045 * 0.98**10)


@pytest.mark.parametrize(("key", "wrong"), [("transformer", "0.001"), ("bert", "5e-5"), ("mobilenet_v2", "V1")])
def test_corrections_name_what_the_note_gets_wrong(key, wrong):
    preset = S.PRESETS[key]
    assert preset.correction
    assert wrong in preset.correction
