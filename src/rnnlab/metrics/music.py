"""Statistics of piano rolls, to hold generated music against real music: the key (Krumhansl-
Kessler key finding), the share of steps whose notes all sit in it, and the note density.

A roll is (T, 88): key k is MIDI pitch 21 + k, pitch class (21 + k) mod 12 (0 = C).

Key finding (Krumhansl 1990, with the Krumhansl-Kessler probe-tone profiles): the key whose
profile, rotated to its tonic, correlates best (Pearson) with the roll's pitch-class durations

    key = argmax_{tonic, mode} corr(d, rotate(profile_mode, tonic)),  d_c = sum_t sum_{k: pc=c} v_tk
"""

from __future__ import annotations

import torch

__all__ = ["estimate_key", "in_key_share", "key_name", "note_density", "pitch_class_durations"]

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor with the raised 7th (harmonic)
NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _check(roll: torch.Tensor) -> torch.Tensor:
    if roll.dim() != 2 or roll.shape[1] != 88:
        raise ValueError(f"a piano roll is (T, 88), got {tuple(roll.shape)}")
    return roll.detach().float().cpu() > 0.5


def pitch_class_durations(roll: torch.Tensor) -> torch.Tensor:
    """d (12,): the steps each pitch class sounds, summed over its octaves."""
    on = _check(roll).float()  # (T, 88)
    pcs = (torch.arange(88) + 21) % 12  # (88,)
    return torch.zeros(12).index_add_(0, pcs, on.sum(0))


def estimate_key(roll: torch.Tensor) -> tuple[int, str]:
    """(tonic pitch class 0..11, "major" or "minor") of ``roll`` by Krumhansl-Kessler key
    finding. Raises ValueError for a silent roll."""
    d = pitch_class_durations(roll)
    if d.sum() == 0:
        raise ValueError("a silent roll has no key")
    best = None
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        p = torch.tensor(profile)
        for tonic in range(12):
            q = p.roll(tonic)  # the profile with its tonic on pitch class `tonic`
            r = float(torch.corrcoef(torch.stack([d, q]))[0, 1])  # Pearson correlation
            if best is None or r > best[0]:
                best = (r, tonic, mode)
    return best[1], best[2]


def key_name(key: tuple[int, str]) -> str:
    """("C major") for (0, "major")."""
    return f"{NAMES[key[0]]} {key[1]}"


def in_key_share(roll: torch.Tensor, key: tuple[int, str] | None = None) -> float:
    """The share of sounding steps (at least one key down) whose every note is in ``key``'s
    scale (major, or minor with both the natural and the raised 7th); ``key`` defaults to
    :func:`estimate_key` of the roll itself."""
    on = _check(roll)
    tonic, mode = key if key is not None else estimate_key(roll)
    scale = {(tonic + s) % 12 for s in (MAJOR_SCALE if mode == "major" else MINOR_SCALE)}
    pcs = (torch.arange(88) + 21) % 12
    outside = torch.tensor([int(pc) not in scale for pc in pcs])  # (88,)
    sounding = on.any(1)  # (T,)
    if not bool(sounding.any()):
        raise ValueError("a silent roll has no notes to place in a key")
    good = sounding & ~(on & outside).any(1)
    return float(good.sum()) / float(sounding.sum())


def note_density(roll: torch.Tensor) -> float:
    """Mean keys down per step (a four-part chorale: about 4)."""
    on = _check(roll)
    if on.shape[0] == 0:
        raise ValueError("an empty roll has no density")
    return float(on.sum()) / on.shape[0]
