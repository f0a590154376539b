"""Word vectors and corpora for the embeddings tests: random vectors with words, and a generated
corpus with a planted analogy (man : woman :: king : queen) that skip-gram must learn."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

# each target word is (gender, role); its sentences hold cues of both, so its vector should be
# the sum of a gender direction and a role direction, and king - man + woman lands on queen
TARGETS = {
    ("m", "adult"): "man", ("f", "adult"): "woman",
    ("m", "royal"): "king", ("f", "royal"): "queen",
    ("m", "young"): "boy", ("f", "young"): "girl",
    ("m", "old"): "grandfather", ("f", "old"): "grandmother",
}  # fmt: skip
GENDER_CUES = {"m": ["he", "him", "his", "himself", "mr"],
               "f": ["she", "her", "hers", "herself", "mrs"]}  # fmt: skip
ROLE_CUES = {
    "adult": ["work", "office", "tax", "car", "job"],
    "royal": ["crown", "throne", "palace", "reign", "castle"],
    "young": ["school", "toy", "play", "class", "candy"],
    "old": ["pension", "garden", "memories", "cane", "porch"],
}
FILLER = ["the", "a", "of", "and", "to", "in", "was", "is"]


def planted_corpus(path: Path, sentences: int = 1500, seed: int = 0) -> Path:
    """A text file of ``sentences`` lines: one target word with two gender cues, two role cues
    and two filler words, in random order."""
    rng = random.Random(seed)
    keys = list(TARGETS)
    lines = []
    for _ in range(sentences):
        gender, role = rng.choice(keys)
        words = [TARGETS[gender, role], *rng.sample(GENDER_CUES[gender], 2),
                 *rng.sample(ROLE_CUES[role], 2), *rng.sample(FILLER, 2)]  # fmt: skip
        rng.shuffle(words)
        lines.append(" ".join(words))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def random_vectors(V: int = 50, D: int = 8, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """V words (``w0`` ... with a few non-ASCII ones) and (V, D) float32 vectors."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(V)]
    words[1], words[2] = "café", "naïve"
    return words, rng.standard_normal((V, D)).astype(np.float32)
