"""Image captioning data: Flickr8k, or any folder (or tar) of images with a caption file.

A captioning split is a :class:`CaptionSet`: N images decoded once into one uint8 tensor
``(N, 3, S, S)`` (S the image size; every image is resized to S x S, squashed, as the Flickr8k
mirror's images already are) and the raw captions of each image (Flickr8k: 5 each).

Caption files, one caption per line, UTF-8 or gzip of it:

    1000268201_693b08cb0e.jpg#0<TAB>A child in a pink dress is climbing up a set of stairs .
    dog.jpg<TAB>a brown dog runs on the grass

(Flickr8k's ``Flickr8k.token.txt``: the image name, ``#k``, a TAB, the caption; or plainly the
image name, a TAB and the caption, repeated for more captions of the same image.) A split list
(``Flickr_8k.trainImages.txt``) names one image per line. Images come from a folder or an
uncompressed tar (member names are matched by their base name) and are read with Pillow.

Flickr8k (``load_captioning("flickr8k", ...)``): the official 6,000 / 1,000 / 1,000 image split
lists and 5 captions per image (Hodosh, Young & Hockenmaier 2013). The text files come from the
mirror (``$RNNLAB_DATA/captioning/flickr8k_text``) or are downloaded (their URLs and sha256 below);
the images (8,091 JPEGs at 128x128) exist only as the data mirror's tar
``captioning/flickr8k_images/flickr8k_images_128.tar``: the original 1 GB zip is not served at a
stable address, so that file has no URL and must be put there by hand (see its SOURCE.md).
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import DataFormatError, MissingDataError

__all__ = [
    "CAPTION_DATASETS",
    "CaptionSet",
    "ImageSource",
    "caption_dataset_names",
    "flip_images",
    "load_captioning",
    "load_image",
    "read_caption_file",
    "read_image_list",
]

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
_TEXT_SUBDIR = "captioning/flickr8k_text"
_IMAGE_SUBDIR = "captioning/flickr8k_images"
_TEXT_URL = (
    "https://raw.githubusercontent.com/ObeidaElJundi/Arabic-Image-Captioning/"
    "2fc6ce89dc1032c4ebb7bdcaa7ebc5a3e83cc293/data/Flickr8k_text/{}"
)
# the caption file (the mirror keeps a gzip of the same bytes) and the split lists
_TOKENS = RemoteFile(
    "Flickr8k.token.txt", (_TEXT_URL.format("Flickr8k.token.txt"),),
    "2f234ec9b9694ef7c0c7265d8b80b2b25e3823c6013c6911feddaaa3b36744e1", 3_394_868,
    mirror_repacks=(("Flickr8k.token.txt.gz",
                     "3237501310a75428a43d38c5abd5e3593265dbd34d409373941b07c01271715b"),),
)  # fmt: skip
_SPLIT_FILES = {
    split: RemoteFile(f"Flickr_8k.{split}Images.txt",
                      (_TEXT_URL.format(f"Flickr_8k.{split}Images.txt"),), sha, size)
    for split, sha, size in (
        ("train", "e330ddd5156a4c2d2e2b67bc587e70e588f2d132bd8a10dc54dcb71e58115d8e", 154_678),
        ("dev", "18ba829f47f6df1cb830bf7f0506e2ddf333818925299babbd1bbcaf50fdc504", 25_801),
        ("test", "c0924146c131458ceba45da59670fe9520eadce1e5cafffa16a817672a9b1f17", 25_775),
    )
}  # fmt: skip
# 8,091 JPEGs at 128 px made from a 224 px copy (shared/data's SOURCE.md): a mirror-only file
_IMAGES = RemoteFile(
    "flickr8k_images_128.tar", (),
    "a0895a19286c5e463f987a74fd590739fa494ab5893a272c12ce3d96bc3f6a9c", 64_409_600,
)  # fmt: skip
CAPTION_DATASETS = ("flickr8k",)
_SUFFIX = re.compile(r"#\d+$")


def caption_dataset_names() -> list[str]:
    """The registered captioning datasets."""
    return list(CAPTION_DATASETS)


@dataclass
class CaptionSet:
    """N images and their captions.

    ``images`` (N, 3, S, S) uint8 RGB; ``captions[i]`` the raw captions of image i (at least
    one); ``names[i]`` its file name.
    """

    names: list[str]
    images: torch.Tensor
    captions: list[list[str]]

    def __post_init__(self) -> None:
        if not (len(self.names) == len(self.captions) == self.images.shape[0]):
            raise ValueError(
                f"{len(self.names)} names, {len(self.captions)} caption lists and "
                f"{self.images.shape[0]} images"
            )
        if self.images.dtype != torch.uint8 or self.images.dim() != 4 or self.images.shape[1] != 3:
            raise ValueError(f"images must be uint8 (N, 3, S, S), got {self.images.dtype} "
                             f"{tuple(self.images.shape)}")  # fmt: skip
        for name, caps in zip(self.names, self.captions, strict=True):
            if not caps:
                raise ValueError(f"image {name} has no caption")

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, index: Sequence[int]) -> CaptionSet:
        """The images ``index`` (in that order)."""
        idx = list(index)
        return CaptionSet([self.names[i] for i in idx], self.images[idx],
                          [self.captions[i] for i in idx])  # fmt: skip


# ---- caption files and split lists --------------------------------------------------------


def _read_text(path: Path) -> list[str]:
    """The lines of a UTF-8 file, gunzipped if it is a gzip file."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8").splitlines()
    except OSError as e:
        raise MissingDataError(f"cannot read {path}: {e.strerror or e}") from e
    except (UnicodeDecodeError, EOFError) as e:
        raise DataFormatError(f"{path} is not UTF-8 text (or a gzip of it): {e}") from e


def read_caption_file(path: str | os.PathLike) -> dict[str, list[str]]:
    """Captions by image name from ``image<TAB>caption`` lines (``image#k`` as in Flickr8k's
    token file is the same image); blank lines are skipped.

    Returns:
        image name -> its captions in file order.

    Raises:
        DataFormatError: a line without a TAB, an empty image name or caption (file:line named).
    """
    path = Path(path)
    captions: dict[str, list[str]] = {}
    for n, line in enumerate(_read_text(path), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataFormatError(
                f"{path}:{n}: expected 'image<TAB>caption', got {line[:60]!r} (no TAB)"
            )
        name, caption = line.split("\t", 1)
        name, caption = _SUFFIX.sub("", name.strip()), caption.strip()
        if not name or not caption:
            raise DataFormatError(f"{path}:{n}: empty {'image name' if not name else 'caption'}")
        captions.setdefault(name, []).append(caption)
    if not captions:
        raise DataFormatError(f"{path} holds no captions")
    return captions


def read_image_list(path: str | os.PathLike) -> list[str]:
    """The image names of a split list (one per line, blank lines skipped)."""
    return [line.strip() for line in _read_text(Path(path)) if line.strip()]


# ---- images ---------------------------------------------------------------------------------


def load_image(source: str | os.PathLike | bytes, size: int, name: str | None = None
               ) -> torch.Tensor:  # fmt: skip
    """One image as uint8 RGB (3, size, size): converted to RGB and resized (squashed, bicubic)
    with Pillow.

    Args:
        source: a file path or the file's bytes.
        size: S, the side of the square output.
        name: what to call the image in errors (default: the path).

    Raises:
        MissingDataError: no such file. DataFormatError: not an image Pillow can decode.
    """
    from PIL import Image, UnidentifiedImageError

    label = name or str(source if not isinstance(source, bytes) else "<bytes>")
    try:
        f = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    except OSError as e:
        raise MissingDataError(f"cannot read image {label}: {e.strerror or e}") from e
    try:
        with f, Image.open(f) as img:
            img = img.convert("RGB")
            if img.size != (size, size):
                img = img.resize((size, size), Image.BICUBIC)
            array = np.asarray(img, dtype=np.uint8)  # (S, S, 3)
    except UnidentifiedImageError as e:
        raise DataFormatError(f"{label} is not an image Pillow can read") from e
    except Image.DecompressionBombError as e:  # a header declaring billions of pixels
        raise DataFormatError(f"{label} is too large to decode: {e}") from e
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data
        raise DataFormatError(f"{label} is a corrupt image: {e}") from e
    return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()  # (3, S, S)


class ImageSource:
    """Images by file name from a folder or an uncompressed tar (matched by base name)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            self._tar_members = None
            self._files = {
                p.name: p for p in self.path.rglob("*")
                if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
            }  # fmt: skip
        elif self.path.is_file():
            try:
                with tarfile.open(self.path) as tar:
                    members = [m for m in tar.getmembers() if m.isfile()]
            except (tarfile.TarError, OSError) as e:
                raise DataFormatError(f"{self.path} is not a readable tar of images: {e}") from e
            self._tar_members = {Path(m.name).name: m for m in members}
            self._files = None
        else:
            raise MissingDataError(f"no image folder or tar at {self.path}")

    def names(self) -> set[str]:
        """The file names it holds."""
        return set(self._files if self._files is not None else self._tar_members)

    def load(self, names: Sequence[str], size: int) -> torch.Tensor:
        """The images ``names`` as uint8 (N, 3, size, size), decoded once, in that order.

        Raises:
            MissingDataError: a name the folder or tar lacks. DataFormatError: a file that is not
            a readable image (both name the file).
        """
        have = self.names()
        missing = [n for n in names if n not in have]
        if missing:
            raise MissingDataError(
                f"{len(missing)} image(s) named in the captions are not in {self.path}, e.g. "
                f"{missing[0]}: give the folder or tar that holds them"
            )
        out = torch.empty(len(names), 3, size, size, dtype=torch.uint8)  # (N, 3, S, S)
        if self._files is not None:
            for i, n in enumerate(names):
                out[i] = load_image(self._files[n], size, str(self._files[n]))
            return out
        where = {n: i for i, n in enumerate(names)}
        with tarfile.open(self.path) as tar:
            for n, i in where.items():
                data = tar.extractfile(self._tar_members[n]).read()
                out[i] = load_image(data, size, f"{self.path}:{n}")
        return out


def flip_images(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training augmentation: each image of (B, 3, S, S) mirrored left-right with probability 1/2
    (a caption rarely says left or right, so it stays true)."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5  # (B,)
    if not bool(flip.any()):
        return images
    out = images.clone()
    out[flip] = images[flip].flip(-1)
    return out


# ---- splits ---------------------------------------------------------------------------------


def _build(names: Iterable[str], captions: dict[str, list[str]], source: ImageSource,
           size: int, where: str) -> CaptionSet:  # fmt: skip
    names = list(names)
    lacking = [n for n in names if n not in captions]
    if lacking:
        raise DataFormatError(f"{len(lacking)} image(s) of {where} have no caption, e.g. "
                              f"{lacking[0]}")  # fmt: skip
    return CaptionSet(names, source.load(names, size), [captions[n] for n in names])


def _flickr8k(splits: Sequence[str], size: int, progress: bool) -> dict[str, CaptionSet]:
    captions = read_caption_file(fetch(_TOKENS, _TEXT_SUBDIR, progress))
    source = ImageSource(fetch(_IMAGES, _IMAGE_SUBDIR, progress))
    out = {}
    for split in splits:
        names = read_image_list(fetch(_SPLIT_FILES[split], _TEXT_SUBDIR, progress))
        out[split] = _build(names, captions, source, size, f"flickr8k {split}")
    return out


def _user_data(path: Path, images: str | None, splits: Sequence[str], size: int,
               held_out: float, seed: int) -> dict[str, CaptionSet]:  # fmt: skip
    """A caption file (or a folder holding ``captions.txt``) with its images; dev and test are
    each ``held_out`` of the images (seeded), the rest train."""
    caption_file = path / "captions.txt" if path.is_dir() else path
    if not caption_file.is_file():
        raise MissingDataError(
            f"no caption file at {caption_file}: give 'flickr8k', a file of image<TAB>caption "
            "lines, or a folder of images holding captions.txt"
        )
    captions = read_caption_file(caption_file)
    source = ImageSource(images if images is not None else caption_file.parent)
    names = sorted(captions)
    order = torch.randperm(len(names), generator=torch.Generator().manual_seed(seed)).tolist()
    k = max(1, round(held_out * len(names))) if len(names) >= 3 else 0
    parts = {"dev": order[:k], "test": order[k : 2 * k], "train": order[2 * k :]}
    out = {}
    for split in splits:
        if not parts[split]:
            raise DataFormatError(f"{caption_file}: too few images ({len(names)}) for a {split} "
                                  "split")  # fmt: skip
        out[split] = _build([names[i] for i in sorted(parts[split])], captions, source, size,
                            str(caption_file))  # fmt: skip
    return out


def load_captioning(
    data: str,
    splits: Sequence[str] = ("train", "dev", "test"),
    image_size: int = 128,
    images: str | None = None,
    held_out: float = 0.1,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, CaptionSet]:
    """Splits of a captioning dataset, images decoded to uint8 (N, 3, S, S).

    Args:
        data: ``"flickr8k"``, or a caption file (``image<TAB>caption`` lines) or a folder of
            images holding ``captions.txt``.
        splits: which of ``train``, ``dev``, ``test`` to load.
        image_size: S, the side images are resized to.
        images: the image folder or tar of a caption file (default: the file's folder).
        held_out: for a caption file: the fraction of images held out as dev and again as test.
        seed: the seed of that split.
        progress: show a bar while downloading.

    Raises:
        MissingDataError, DataFormatError: as the readers above (they name the file).
    """
    bad = [s for s in splits if s not in ("train", "dev", "test")]
    if bad:
        raise ValueError(f"splits are train, dev and test, got {bad}")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise ValueError(f"image_size must be an int >= 8, got {image_size!r}")
    if not 0.0 < held_out < 0.5:
        raise ValueError(f"held_out must be in (0, 0.5), got {held_out!r}")
    if data in CAPTION_DATASETS:
        if images is not None:
            raise ValueError("images applies to a caption file, not to flickr8k")
        return _flickr8k(splits, image_size, progress)
    path = Path(data)
    if not path.exists():
        raise MissingDataError(
            f"unknown captioning data {data!r}: give one of {', '.join(CAPTION_DATASETS)}, a "
            "file of image<TAB>caption lines, or a folder of images holding captions.txt"
        )
    return _user_data(path, images, splits, image_size, held_out, seed)
