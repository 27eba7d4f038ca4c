"""Metrics on hand-made sets: mode coverage, precision/recall, FID/KID/IS through torchmetrics, the LeNet."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn
from torch.testing import assert_close

from gan_lightning.metrics import ImageMetrics, ModeCoverage, PrecisionRecall, mode_coverage, precision_recall
from gan_lightning.metrics.image import InceptionV3Features, build_feature_extractor, to_uint8
from gan_lightning.metrics.lenet import DEFAULT_WEIGHTS, LeNet, load_lenet
from gan_lightning.metrics.precision_recall import knn_radii
from tests.helpers import SHARED_MNIST

# ------------------------------------------------------------------------------------------ mode coverage
CENTERS = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def test_mode_coverage_counts_points_within_three_stds_of_their_nearest_mode() -> None:
    points = torch.tensor([
        [0.0, 0.0], [0.0, 0.0],  # exactly at mode 0
        [0.2, 0.2],               # 2 std per axis, Mahalanobis sqrt(8) = 2.83 < 3: mode 0
        [0.25, 0.25],             # 2.5 std per axis but Mahalanobis 3.54: not high quality
        [10.29, 0.0],             # 2.9 std from mode 1: high quality
        [10.31, 0.0],             # 3.1 std: not
        [5.0, 5.0],               # between modes: not
    ])  # fmt: skip
    result = mode_coverage(points, CENTERS, std=0.1)
    # Mode 2 is missing; the histogram of high-quality points is (3, 1, 0) out of 7 points.
    p = torch.tensor([0.75, 0.25], dtype=torch.float64)
    expected_kl = float((p * (p * 3).log()).sum())
    assert result["modes"] == 2
    assert_close(result["high_quality"], 100 * 4 / 7)
    assert_close(result["reverse_kl"], expected_kl)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_true_samples_score_one_minus_exp_minus_nine_halves_high_quality(name: str) -> None:
    # A 2D isotropic Gaussian keeps 1 - exp(-3^2 / 2) of its mass within 3 std (chi-square, 2 dof): the
    # ceiling of the 3-std rule, which the data itself only reaches on average.
    from gan_lightning.data.toy import sample_toy, toy_modes

    centers, std = toy_modes(name)
    points, _ = sample_toy(name, 200_000, torch.Generator().manual_seed(0))
    result = mode_coverage(points, centers, std)
    assert result["modes"] == len(centers)
    # Binomial standard error at 200,000 points: 0.023 points.
    assert_close(result["high_quality"], 100 * (1 - math.exp(-4.5)), atol=0.1, rtol=0)
    assert_close(result["reverse_kl"], 0.0, atol=1e-3, rtol=0)


def test_mode_coverage_uses_each_axis_std() -> None:
    centre = torch.zeros(1, 2)
    std = torch.tensor([0.1, 1.0])
    inside = mode_coverage(torch.tensor([[0.29, 0.0], [0.0, 2.9]]), centre, std)
    outside = mode_coverage(torch.tensor([[0.31, 0.0], [0.0, 3.1]]), centre, std)
    assert (inside["modes"], inside["high_quality"]) == (1, 100.0)
    assert (outside["modes"], outside["high_quality"]) == (0, 0.0)
    assert math.isnan(outside["reverse_kl"])  # no high-quality point: no histogram


def test_reverse_kl_is_zero_for_uniform_modes_and_log_k_for_one_mode() -> None:
    uniform = mode_coverage(CENTERS.repeat(5, 1), CENTERS, 0.1)
    collapsed = mode_coverage(CENTERS[:1].repeat(9, 1), CENTERS, 0.1)
    assert (uniform["modes"], uniform["high_quality"], uniform["reverse_kl"]) == (3, 100.0, 0.0)
    assert collapsed["modes"] == 1
    assert_close(collapsed["reverse_kl"], math.log(3))


def test_mode_coverage_metric_accumulates_batches_like_the_function() -> None:
    points = torch.cat([CENTERS + 0.05, CENTERS[:2] + 0.35, CENTERS[1:2]])
    metric = ModeCoverage(CENTERS, 0.1)
    for batch in points.split(3):
        metric.update(batch)
    assert metric.compute() == mode_coverage(points, CENTERS, 0.1)


# ------------------------------------------------------------------------------------------ precision/recall
def line(*xs: float) -> Tensor:
    return torch.tensor([[x, 0.0] for x in xs])


def test_knn_radii_are_the_distance_to_the_kth_other_point() -> None:
    assert_close(
        knn_radii(line(0, 1, 2, 3, 4, 5, 6, 7), k=3), torch.tensor([3.0, 2, 2, 2, 2, 2, 2, 3]).double()
    )


def test_precision_recall_on_hand_made_sets() -> None:
    # k = 1: real radii (1, 1, 1, 1, 7); fake radii (0.5, 0.5, 0.1, 0.1, 17).
    real, fake = line(0, 1, 2, 3, 10), line(0, 0.5, 2.9, 3, 20)
    precision, recall = precision_recall(real, fake, k=1)
    assert_close(precision, torch.tensor(4 / 5).double())  # 20 is 10 from real 10, whose radius is 7
    # Real 2 is in no fake ball (0.9 from 2.9, radius 0.1); real 1 lies exactly on the ball of 0.5 (<=).
    assert_close(recall, torch.tensor(4 / 5).double())


def test_precision_with_the_default_k_of_three() -> None:
    real = line(0, 1, 2, 3, 4, 5, 6, 7)  # radii 3 at both ends, 2 inside
    fake = line(-2.5, 3.5, 9.5, 12, 20)  # -2.5 and 9.5 are 2.5 from an end; 12 and 20 are out
    assert_close(precision_recall(real, fake)[0], torch.tensor(3 / 5).double())


def test_precision_recall_metric_keeps_the_real_features_across_resets() -> None:
    metric = PrecisionRecall(k=1, reset_real_features=False)
    metric.update(line(0, 1, 2, 3, 10), real=True)
    metric.update(line(0, 0.5, 2.9, 3, 20), real=False)
    first = metric.compute()
    metric.reset()
    metric.update(line(0, 0.5, 2.9, 3, 20), real=False)
    assert_close(metric.compute(), first)


# ------------------------------------------------------------------------------------------ FID / KID / IS
class TinyExtractor(nn.Module):
    """A fixed linear map of 1x4x4 images to 3 features; 4 logits: 100 x one-hot of the top-left pixel."""

    num_features = 3

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weight", torch.randn(16, 3, generator=torch.Generator().manual_seed(0)))

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        classes = images[:, 0, 0, 0].round().long().clamp(0, 3)
        return images.flatten(1) @ self.weight, 100.0 * nn.functional.one_hot(classes, 4).float()


def images(n: int, seed: int) -> Tensor:
    return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))


def scores(real: Tensor, fake: Tensor, metrics=("fid", "kid"), **kwargs) -> dict[str, float]:
    m = ImageMetrics(TinyExtractor(), metrics, **kwargs)
    m.update(real, real=True)
    m.update(fake, real=False)
    return m.compute()


def test_fid_of_a_set_with_itself_is_zero_and_of_a_shift_is_the_squared_mean_shift() -> None:
    real = images(300, seed=1)
    assert abs(scores(real, real, ["fid"])["fid"]) < 1e-3
    # Same covariance, mean moved by W^T (0.5, ..., 0.5): FID = ||shift||^2.
    shift = (torch.full((16,), 0.5) @ TinyExtractor().weight).double()
    assert_close(scores(real, real + 0.5, ["fid"])["fid"], float(shift @ shift), rtol=1e-3, atol=1e-3)


def polynomial_mmd(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD^2 with KID's kernel k(a, b) = (a.b / d + 1)^3, written out by hand."""
    x, y = x.double(), y.double()
    d, m = x.shape[1], len(x)

    def k(a: Tensor, b: Tensor) -> Tensor:
        return (a @ b.T / d + 1) ** 3

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    off = m * (m - 1)
    return float((kxx.sum() - kxx.diag().sum()) / off + (kyy.sum() - kyy.diag().sum()) / off - 2 * kxy.mean())


def test_kid_matches_the_unbiased_polynomial_mmd() -> None:
    real, fake = images(50, seed=1), images(50, seed=2) + 0.3
    w = TinyExtractor().weight
    # One subset of all 50 samples: the estimate no longer depends on the random subsets.
    got = scores(real, fake, ["kid"], kid_subsets=1, kid_subset_size=50)
    assert_close(
        got["kid_mean"], polynomial_mmd(real.flatten(1) @ w, fake.flatten(1) @ w), rtol=1e-4, atol=1e-6
    )
    same = scores(real, real, ["kid"], kid_subsets=1, kid_subset_size=50)["kid_mean"]
    assert abs(same) < got["kid_mean"] / 20


@pytest.mark.filterwarnings("ignore:std\\(\\). degrees of freedom")  # one split: its std is undefined
def test_inception_score_counts_equally_used_confident_classes() -> None:
    four_classes = torch.arange(40).remainder(4).float().view(-1, 1, 1, 1).expand(-1, 1, 4, 4)
    one_class = torch.zeros(40, 1, 4, 4)
    assert_close(scores(one_class, four_classes, ["is"], is_splits=1)["is_mean"], 4.0)
    assert_close(scores(one_class, one_class, ["is"], is_splits=1)["is_mean"], 1.0)


def test_real_statistics_survive_resets_and_bad_metric_names_fail() -> None:
    m = ImageMetrics(TinyExtractor(), ["fid", "kid", "pr"], kid_subset_size=10)
    m.update(images(40, 1), real=True)
    m.update(images(40, 2), real=False)
    first = m.compute()
    m.reset_generated()
    m.update(images(40, 2), real=False)
    assert m.metrics["fid"].real_features_num_samples == 40
    assert_close(m.compute()["fid"], first["fid"])
    with pytest.raises(ValueError, match="image_metrics"):
        ImageMetrics(TinyExtractor(), ["fid", "lpips"])


def test_extractor_is_not_a_submodule_of_the_metrics() -> None:
    m = ImageMetrics(TinyExtractor(), ["fid", "kid", "is", "pr"])
    assert not any("weight" in key for key in m.state_dict())


def test_images_are_mapped_from_minus_one_one_to_uint8() -> None:
    assert to_uint8(torch.tensor([-1.0, 0.0, 1.0, 2.0])).tolist() == [0, 128, 255, 255]


def test_missing_inception_weights_give_one_clear_sentence(monkeypatch, tmp_path) -> None:
    import urllib.error

    import torch_fidelity.feature_extractor_inceptionv3 as fidelity

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(fidelity, "load_state_dict_from_url", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(
        RuntimeError, match=r"^InceptionV3 weights are not in .* could not be downloaded"
    ) as error:
        build_feature_extractor("inception")
    assert "\n" not in str(error.value) and "feature_extractor_weights" in str(error.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        InceptionV3Features(str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="evaluation.feature_extractor"):
        build_feature_extractor("vgg")


def test_inception_wrapper_maps_grey_minus_one_one_images_to_uint8_rgb(monkeypatch) -> None:
    import torch_fidelity.feature_extractor_inceptionv3 as fidelity

    # Random weights stand in for the downloaded ones: what is checked is the input the network receives.
    monkeypatch.setattr(fidelity, "load_state_dict_from_url", lambda *args, **kwargs: None)
    monkeypatch.setattr(fidelity.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
    extractor = build_feature_extractor("inception")
    seen = []
    monkeypatch.setattr(
        extractor.inception, "forward", lambda x: seen.append(x) or (x[:, :1, 0, 0], x[:, 0, 0])
    )
    grey = torch.tensor([-1.0, 0.0, 1.0]).view(3, 1, 1, 1).expand(3, 1, 28, 28)
    extractor(grey)
    assert seen[0].dtype == torch.uint8 and seen[0].shape == (3, 3, 28, 28)
    assert seen[0][:, :, 5, 7].tolist() == [[0, 0, 0], [128, 128, 128], [255, 255, 255]]
    assert extractor.num_features == 2048 and not any(p.requires_grad for p in extractor.parameters())


# ------------------------------------------------------------------------------------------ LeNet
def test_lenet_reads_minus_one_one_zero_one_uint8_and_rgb_alike() -> None:
    torch.manual_seed(0)
    net = LeNet().eval()
    pixels = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    signed = pixels.float() / 127.5 - 1
    reference = net(signed)[0]
    assert_close(net(pixels)[0], reference)
    unit = LeNet(input_range=(0.0, 1.0)).eval()
    unit.load_state_dict(net.state_dict())
    assert_close(unit(pixels.float() / 255)[0], reference, atol=1e-5, rtol=1e-5)
    assert_close(net(signed.repeat(1, 3, 1, 1))[0], reference)  # equal channels average to the grey image
    assert net(torch.zeros(2, 1, 32, 32))[0].shape == (2, net.num_features)


@pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="needs ../shared/data/mnist"
)
def test_bundled_lenet_classifies_its_held_out_mnist_digits() -> None:
    from gan_lightning.data.mnist import load_mnist
    from gan_lightning.metrics.lenet import accuracy

    saved = torch.load(DEFAULT_WEIGHTS, weights_only=True)
    assert DEFAULT_WEIGHTS.stat().st_size < 1_000_000 and saved["accuracy"] > 0.98
    images, labels = load_mnist(SHARED_MNIST, "test")
    held_out = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[-2000:]
    assert_close(accuracy(load_lenet(), images[held_out], labels[held_out]), saved["accuracy"])
