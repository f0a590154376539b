"""The captioning reader: caption files (Flickr8k's token format and plain image<TAB>caption),
split lists, images from a folder or a tar, and clear errors for what can go wrong."""

from __future__ import annotations

import gzip
import tarfile

import pytest
import torch

from caption_files import shapes, write_folder
from rnnlab.data import DataFormatError, MissingDataError
from rnnlab.data.captioning import (
    ImageSource,
    flip_images,
    load_captioning,
    load_image,
    read_caption_file,
    read_image_list,
)


def test_caption_files_group_captions_by_image_in_both_formats(tmp_path):
    token = tmp_path / "Flickr8k.token.txt.gz"
    token.write_bytes(gzip.compress(
        b"a.jpg#0\tA dog runs .\na.jpg#1\tA brown dog .\n\nb.jpg#0\tTwo kids .\n"))  # fmt: skip
    assert read_caption_file(token) == {"a.jpg": ["A dog runs .", "A brown dog ."],
                                        "b.jpg": ["Two kids ."]}  # fmt: skip
    plain = tmp_path / "captions.txt"
    plain.write_text("x.png\ta red square\nx.png\tred box\ny.png\tsomething\n", encoding="utf-8")
    assert read_caption_file(plain) == {"x.png": ["a red square", "red box"],
                                        "y.png": ["something"]}  # fmt: skip
    split = tmp_path / "Flickr_8k.devImages.txt"
    split.write_text("a.jpg\n\nb.jpg\n", encoding="utf-8")
    assert read_image_list(split) == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("a.jpg a dog without a tab\n", "caption.txt:1: expected 'image<TAB>caption'"),
     ("a.jpg\tfine\n\t a caption without an image\n", "caption.txt:2: empty image name"),
     ("a.jpg\t   \n", "caption.txt:1: empty caption"),
     ("\n\n", "holds no captions")],
)  # fmt: skip
def test_a_bad_caption_line_is_named_with_its_line_number(tmp_path, text, message):
    path = tmp_path / "caption.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        read_caption_file(path)


def test_a_caption_file_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "captions.txt"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(DataFormatError, match="not UTF-8 text"):
        read_caption_file(path)


def test_a_folder_and_a_tar_of_the_same_images_read_alike(tmp_path):
    folder = write_folder(tmp_path / "shapes", 6, size=16)
    tar_path = tmp_path / "shapes.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(folder, arcname="imgs")
    names = ["shape_004.png", "shape_001.png"]
    from_folder = ImageSource(folder).load(names, 16)
    from_tar = ImageSource(tar_path).load(names, 16)
    assert from_folder.dtype == torch.uint8 and from_folder.shape == (2, 3, 16, 16)
    assert torch.equal(from_folder, from_tar)
    # PNG is lossless: what was drawn comes back
    images, _ = shapes(6, 16)
    assert torch.equal(from_folder[1], images[1])
    # and resized on the way in
    assert ImageSource(folder).load(names, 8).shape == (2, 3, 8, 8)


def test_a_caption_file_with_its_folder_splits_by_image(tmp_path):
    folder = write_folder(tmp_path / "shapes", 30, size=16)
    splits = load_captioning(str(folder), image_size=16, held_out=0.1, seed=0)
    sizes = {k: len(v) for k, v in splits.items()}
    assert sizes == {"train": 24, "dev": 3, "test": 3}
    seen = [n for s in splits.values() for n in s.names]
    assert sorted(seen) == sorted(f"shape_{i:03d}.png" for i in range(30))  # each image once
    train = splits["train"]
    assert all(len(c) == 2 for c in train.captions)
    assert train.images.shape == (24, 3, 16, 16)
    # the caption file itself, with the images given apart, is the same data
    again = load_captioning(str(folder / "captions.txt"), ("dev",), 16, images=str(folder))
    assert again["dev"].names == splits["dev"].names


def test_missing_corrupt_and_non_images_are_named(tmp_path):
    folder = write_folder(tmp_path / "shapes", 6, size=16)
    with pytest.raises(MissingDataError, match="not in .*e.g. nope.png"):
        ImageSource(folder).load(["shape_000.png", "nope.png"], 16)
    (folder / "shape_002.png").write_bytes((folder / "shape_002.png").read_bytes()[:60])
    with pytest.raises(DataFormatError, match="shape_002.png is a corrupt image"):
        ImageSource(folder).load(["shape_002.png"], 16)
    (folder / "shape_003.png").write_text("this is not a picture", encoding="utf-8")
    with pytest.raises(DataFormatError, match="shape_003.png is not an image"):
        ImageSource(folder).load(["shape_003.png"], 16)
    with pytest.raises(MissingDataError, match="cannot read image"):
        load_image(tmp_path / "absent.jpg", 16)
    with pytest.raises(MissingDataError, match="no image folder or tar"):
        ImageSource(tmp_path / "nowhere")
    not_tar = tmp_path / "images.tar"
    not_tar.write_bytes(b"garbage" * 100)
    with pytest.raises(DataFormatError, match="not a readable tar"):
        ImageSource(not_tar)
    with pytest.raises(MissingDataError, match="unknown captioning data 'flickr9k'"):
        load_captioning("flickr9k")


def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(tmp_path, monkeypatch):
    from PIL import Image

    folder = write_folder(tmp_path / "shapes", 1, size=16)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 16 x 16 is over twice this
    with pytest.raises(DataFormatError, match="shape_000.png is too large to decode"):
        load_image(folder / "shape_000.png", 16)


def test_a_caption_for_an_image_the_folder_lacks_is_named(tmp_path):
    folder = write_folder(tmp_path / "shapes", 9, size=16)
    with open(folder / "captions.txt", "a", encoding="utf-8") as f:
        f.write("ghost.png\ta ghost\n")
    with pytest.raises(MissingDataError, match="ghost.png"):
        load_captioning(str(folder), image_size=16)


def test_flipping_mirrors_about_half_the_images_left_to_right():
    images, _ = shapes(200, 16)
    out = flip_images(images, torch.Generator().manual_seed(0))
    flipped = [not torch.equal(a, b) and torch.equal(a.flip(-1), b)
               for a, b in zip(images, out, strict=True)]  # fmt: skip
    same = [torch.equal(a, b) for a, b in zip(images, out, strict=True)]
    assert all(f or s for f, s in zip(flipped, same, strict=True))
    assert 70 <= sum(flipped) <= 130


@pytest.mark.data
def test_flickr8k_dev_has_the_official_images_and_five_captions_each(data_root):
    dev = load_captioning("flickr8k", ("dev",), image_size=32, progress=False)["dev"]
    assert len(dev) == 1000 and dev.images.shape == (1000, 3, 32, 32)
    assert all(len(c) == 5 for c in dev.captions)
    assert dev.names[0] == read_image_list(
        data_root / "captioning/flickr8k_text/Flickr_8k.devImages.txt")[0]  # fmt: skip
