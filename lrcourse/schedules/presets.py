"""The learning-rate settings of well-known architectures, as their papers give them.

``PRESETS["resnet"].schedule(steps_per_epoch=5005)`` builds the paper's schedule in steps
(0-based, like every schedule here). Each preset quotes its paper in ``source``, records
what the course's source note says in ``notes_say`` and, in ``correction``, where that note
is wrong or imprecise. Epoch-based schedules change the LR on the first step of an epoch;
the step-based ones (Transformer, BERT) count steps from 0 where the papers count from 1,
so the paper's step ``n`` is step ``n - 1`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ._common import Schedule, check_int
from .anneal import linear_decay
from .decay import multistep, step_decay
from .warmup import inverse_sqrt, linear_warmup


@dataclass(frozen=True, kw_only=True)
class Preset:
    """One architecture's documented LR setting.

    Attributes:
        name, paper: the architecture and the paper that trained it.
        optimizer: the optimizer and its settings, in the paper's words where it has them.
        lr: the initial LR, or the peak LR where the schedule warms up.
        momentum: SGD or RMSProp momentum; None for Adam (its beta1 is in ``optimizer``)
            or where the paper gives none.
        batch_size: as the paper states it (images, tokens, or per replica).
        schedule_text: the paper's schedule, and how ``schedule()`` builds it.
        source: the paper's own words.
        notes_say: what the course's source note claims.
        correction: where that claim is wrong or imprecise; empty when it is right.
        verified: every number here was found in the paper; when False, ``schedule_text``
            says what is not verified.
        build: makes the schedule from ``(lr, steps_per_epoch)``.

    Example:
        >>> preset = S.PRESETS["resnet"]
        >>> schedule = preset.schedule(steps_per_epoch=len(batches))  # epochs counted in steps
        >>> schedule(0), schedule(30 * len(batches))
        (0.1, 0.01)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after every optimizer.step()
    """

    name: str
    paper: str
    optimizer: str
    lr: float
    momentum: float | None
    batch_size: str
    schedule_text: str
    source: str
    notes_say: str
    correction: str
    verified: bool
    build: Callable[[float, int], Schedule] = field(repr=False)

    def schedule(self, steps_per_epoch: int) -> Schedule:
        """The paper's schedule in optimizer steps, for an epoch of ``steps_per_epoch`` steps."""
        check_int("steps_per_epoch", steps_per_epoch, 1)
        return self.build(self.lr, steps_per_epoch)


# Module-level builders rather than lambdas, so presets and their schedules pickle. Each takes
# the LR and the number of steps in an epoch.
def _tenfold_every_30_epochs(lr: float, epoch_steps: int) -> Schedule:
    return step_decay(base_lr=lr, step_size=30 * epoch_steps, gamma=0.1)


def _tenfold_at_30_and_60(lr: float, epoch_steps: int) -> Schedule:
    return multistep(base_lr=lr, milestones=(30 * epoch_steps, 60 * epoch_steps), gamma=0.1)


def _inception(lr: float, epoch_steps: int) -> Schedule:
    return step_decay(base_lr=lr, step_size=2 * epoch_steps, gamma=0.94)


def _mobilenet(lr: float, epoch_steps: int) -> Schedule:
    return step_decay(base_lr=lr, step_size=epoch_steps, gamma=0.98)


def _transformer(lr: float, epoch_steps: int) -> Schedule:
    # Counted in steps: the paper's schedule does not depend on the size of an epoch.
    return inverse_sqrt(base_lr=lr, warmup_steps=4000)


def _bert(lr: float, epoch_steps: int) -> Schedule:
    # Up to 1e-4 at step 10,000, then down to 0 at step 1,000,000, where training stops.
    return linear_warmup(warmup_steps=10_000, then=linear_decay(base_lr=lr, total_steps=990_000))


# AlexNet, VGG and ResNet dropped the LR when progress stalled, at epochs their papers do not record.
_PLATEAU_APPROXIMATION = ("the paper gives no epochs for the drops, so schedule() uses the common fixed stand-in of "
                          "pytorch/examples' imagenet/main.py: divide by 10 every 30 epochs")

PRESETS: dict[str, Preset] = {
    "alexnet": Preset(
        name="AlexNet", paper="Krizhevsky, Sutskever & Hinton, ImageNet Classification with Deep "
        "Convolutional Neural Networks, NIPS 2012", optimizer="SGD with momentum, weight decay 0.0005",
        lr=0.01, momentum=0.9, batch_size="128", verified=True, build=_tenfold_every_30_epochs,
        schedule_text="Divide by 10 when the validation error stops improving, three times in about 90 epochs; "
        + _PLATEAU_APPROXIMATION + ", whose README gives 0.01 for AlexNet and VGG (two drops in 90 epochs, not three).",
        source="Krizhevsky et al. 2012, §5: 'We trained our models using stochastic gradient descent with a batch "
        "size of 128 examples, momentum of 0.9, and weight decay of 0.0005 ... divide the learning rate by 10 when "
        "the validation error rate stopped improving ... The learning rate was initialized at 0.01 and reduced "
        "three times prior to termination. We trained the network for roughly 90 cycles through the training set'",
        notes_say="0.01, divided by 10 by hand when validation accuracy plateaus (every 30 epochs in some "
        "implementations); SGD with momentum 0.9",
        correction=""),
    "vgg": Preset(
        name="VGG", paper="Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image "
        "Recognition, ICLR 2015", optimizer="mini-batch gradient descent with momentum, weight decay 5e-4",
        lr=0.01, momentum=0.9, batch_size="256", verified=True, build=_tenfold_every_30_epochs,
        schedule_text="Divide by 10 when validation accuracy stops improving, three times in 74 epochs; "
        + _PLATEAU_APPROXIMATION + ".",
        source="Simonyan & Zisserman 2015, §3.1: 'The batch size was set to 256, momentum to 0.9 ... The learning "
        "rate was initially set to 10^-2, and then decreased by a factor of 10 when the validation set accuracy "
        "stopped improving. In total, the learning rate was decreased 3 times, and the learning was stopped "
        "after 370K iterations (74 epochs).'",
        notes_say="0.01, divided by 10 by hand when validation accuracy plateaus (every 30 epochs in some "
        "implementations); SGD with momentum 0.9",
        correction=""),
    "resnet": Preset(
        name="ResNet (ImageNet)", paper="He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition, "
        "CVPR 2016", optimizer="SGD with momentum, weight decay 0.0001", lr=0.1, momentum=0.9,
        batch_size="256", verified=True, build=_tenfold_every_30_epochs,
        schedule_text="Divide by 10 when the error plateaus, for up to 600k iterations (about 120 epochs of "
        "1.28M images); " + _PLATEAU_APPROXIMATION + ", over 90 epochs (torchvision's defaults too).",
        source="He et al. 2016, §3.4: 'We use SGD with a mini-batch size of 256. The learning rate starts from "
        "0.1 and is divided by 10 when the error plateaus, and the models are trained for up to 60 × 10^4 "
        "iterations. We use a weight decay of 0.0001 and a momentum of 0.9.'",
        notes_say="0.1, divided by 10 at set epochs, e.g. 30, 60 and 90 in a 100-epoch training; SGD with "
        "momentum 0.9",
        correction="The paper names no epochs: it divides by 10 when the error plateaus and trains for up to "
        "600k iterations of 256 images, about 120 epochs. '30, 60, 90 of 100' is nowhere in it; the usual fixed "
        "stand-in is 90 epochs with drops at 30 and 60."),
    "inception_v3": Preset(
        name="Inception-v3", paper="Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, Rethinking the Inception "
        "Architecture for Computer Vision, CVPR 2016", optimizer="RMSProp, decay 0.9, ε = 1.0; gradient "
        "clipping at 2.0", lr=0.045, momentum=None, batch_size="32 per replica, 50 replicas", verified=True,
        build=_inception,
        schedule_text="A staircase: ×0.94 once every 2 epochs, for 100 epochs (TF-slim's train_image_classifier "
        "defaults: exponential_decay with staircase=True, 0.94 every 2.0 epochs).",
        source="Szegedy et al. 2016, §8: '50 replicas running each on a NVidia Kepler GPU with batch size 32 for "
        "100 epochs. Our earlier experiments used momentum with a decay of 0.9, while our best models were "
        "achieved using RMSProp with decay of 0.9 and ε = 1.0. We used a learning rate of 0.045, decayed every "
        "two epoch using an exponential rate of 0.94.'",
        notes_say="0.045, exponential decay every 2 epochs at rate 0.94; RMSProp with decay 0.9 and momentum 0.9",
        correction="The decay is a staircase (×0.94 once every two epochs), not a smooth exponential. The paper's "
        "'momentum with a decay of 0.9' belongs to its earlier SGD runs: for RMSProp it gives decay 0.9 and "
        "ε = 1.0 (far above the usual 1e-8, and missing from the note) and no momentum, though TensorFlow's "
        "Inception trainers use 0.9."),
    "densenet": Preset(
        name="DenseNet (ImageNet)", paper="Huang, Liu, van der Maaten & Weinberger, Densely Connected "
        "Convolutional Networks, CVPR 2017", optimizer="SGD with Nesterov momentum (no dampening), weight "
        "decay 1e-4", lr=0.1, momentum=0.9, batch_size="256", verified=True, build=_tenfold_at_30_and_60,
        schedule_text="Divide by 10 at epochs 30 and 60, for 90 epochs.",
        source="Huang et al. 2017, §4.2: 'On ImageNet, we train models for 90 epochs with a batch size of 256. "
        "The learning rate is set to 0.1 initially, and is lowered by 10 times at epoch 30 and 60. ... we use a "
        "weight decay of 10^-4 and a Nesterov momentum of 0.9 without dampening.'",
        notes_say="0.1, divided by 10 at set epochs, e.g. 30, 60 and 90 in a 100-epoch training; SGD with "
        "momentum 0.9",
        correction="On ImageNet the paper trains 90 epochs and divides by 10 at epochs 30 and 60 only, and its "
        "momentum is Nesterov momentum."),
    "mobilenet_v2": Preset(
        name="MobileNetV2", paper="Sandler, Howard, Zhu, Zhmoginov & Chen, MobileNetV2: Inverted Residuals "
        "and Linear Bottlenecks, CVPR 2018", optimizer="RMSProp, decay 0.9, weight decay 0.00004", lr=0.045,
        momentum=0.9, batch_size="96 (16 asynchronous GPU workers)", verified=False, build=_mobilenet,
        schedule_text="×0.98 per epoch, stepped once an epoch as torchvision's recipe does (--lr-step-size 1 "
        "--lr-gamma 0.98). Not verified: the paper does not say stepped or smooth, and the authors' TF-slim "
        "recipe (nets/mobilenet/README.md) decays ×0.98 every 2.5 epochs instead; RMSProp's ε is not given.",
        source="Sandler et al. 2018, §6.1: 'We use the standard RMSPropOptimizer with both decay and momentum "
        "set to 0.9. ... the standard weight decay is set to 0.00004. Following MobileNetV1 setup we use initial "
        "learning rate of 0.045, and learning rate decay rate of 0.98 per epoch. We use 16 GPU asynchronous "
        "workers, and a batch size of 96.'",
        notes_say="MobileNet: 0.045, exponential decay ×0.98 every epoch; RMSProp with decay 0.9 and momentum 0.9",
        correction="These are MobileNetV2's values. The MobileNet (V1) paper gives no learning rate at all, only "
        "'RMSprop with asynchronous gradient descent similar to Inception V3' (Howard et al. 2017, §3)."),
    "transformer": Preset(
        name="Transformer (base)", paper="Vaswani et al., Attention Is All You Need, NeurIPS 2017",
        optimizer="Adam, β1 = 0.9, β2 = 0.98, ε = 1e-9", lr=(512 * 4000) ** -0.5, momentum=None,
        batch_size="about 25,000 source and 25,000 target tokens", verified=True, build=_transformer,
        schedule_text="lrate = d_model^-0.5 · min(n^-0.5, n · 4000^-1.5) at the paper's step n = step + 1, "
        "d_model = 512: up linearly to 512^-0.5 · 4000^-0.5 ≈ 7.0e-4 at n = 4000, then ∝ n^-0.5; 100k steps.",
        source="Vaswani et al. 2017, §5.3: 'We used the Adam optimizer with β1 = 0.9, β2 = 0.98 and ε = 10^-9. "
        "We varied the learning rate over the course of training, according to the formula: lrate = "
        "d_model^-0.5 · min(step_num^-0.5, step_num · warmup_steps^-1.5) ... We used warmup_steps = 4000.' "
        "§5.2: 'We trained the base models for a total of 100,000 steps'",
        notes_say="initial LR 0.001 (the 'base learning rate'); 4000 warm-up steps, then inverse square root "
        "decay; Adam with β1 = 0.9, β2 = 0.98, ε = 1e-9",
        correction="There is no 0.001 in the paper: the formula alone sets the LR, rising to a peak of about "
        "7.0e-4 at step 4000 for the base model (d_model = 512)."),
    "bert": Preset(
        name="BERT (pre-training)", paper="Devlin, Chang, Lee & Toutanova, BERT: Pre-training of Deep "
        "Bidirectional Transformers for Language Understanding, NAACL 2019",
        optimizer="Adam, β1 = 0.9, β2 = 0.999, L2 weight decay 0.01", lr=1e-4, momentum=None,
        batch_size="256 sequences of 512 tokens", verified=True, build=_bert,
        schedule_text="Linear warm-up to 1e-4 over 10,000 steps (from 1e-4/10,001 at step 0), then linear decay "
        "to 0 at step 1,000,000. The released optimization.py decays from step 0 instead, so its LR at step "
        "10,000 is 0.99e-4. Fine-tuning uses 5e-5, 3e-5 or 2e-5 (batch 16 or 32, 2 to 4 epochs).",
        source="Devlin et al. 2019, App. A.2: 'We train with batch size of 256 sequences ... for 1,000,000 "
        "steps ... We use Adam with learning rate of 1e-4, β1 = 0.9, β2 = 0.999, L2 weight decay of 0.01, "
        "learning rate warmup over the first 10,000 steps, and linear decay of the learning rate.' A.3 "
        "(fine-tuning): 'Learning rate (Adam): 5e-5, 3e-5, 2e-5'",
        notes_say="initial LR 5e-5; warm-up, e.g. 10,000 steps, then linear decay to 0; Adam with β1 = 0.9, "
        "β2 = 0.999, ε = 1e-6",
        correction="5e-5 is a fine-tuning LR (the top of the paper's grid 5e-5, 3e-5, 2e-5, and the default of "
        "run_pretraining.py's --learning_rate flag); pre-training used 1e-4. ε = 1e-6 is from the released "
        "code (optimization.py), not the paper."),
}
