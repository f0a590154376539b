"""Polyphonic music as piano rolls: the JSB chorales, a user's JSON of the same layout, MIDI files.

A piano roll is a multi-hot float32 tensor ``(T, 88)``: step ``t`` holds a 1 at key ``k`` when
MIDI pitch ``21 + k`` sounds then (key 0 is A0, key 87 is C8, the 88 keys of a piano). A step
is a fixed fraction of a quarter note (:data:`STEPS_PER_QUARTER`), so a roll knows no tempo.
Held and repeated notes are not told apart (the encoding of Boulanger-Lewandowski et al. 2012).

Pitches outside 21..108 are an error (:class:`DataFormatError` naming the file, piece or time
and the pitch), never clipped or dropped silently: a roll that cannot hold a piece says so.

- **jsb_chorales**: the 382 Bach chorales in Boulanger-Lewandowski et al.'s split, train 229 /
  valid 76 / test 77, from czhuang/JSB-Chorales-dataset at commit 9a7f733. ``resolution``
  picks the file: ``"quarter"`` (one step per quarter note: the published benchmark, pitches
  43..96), ``"8th"`` or ``"16th"`` (that repository's own encoding at finer steps, pitches
  36..81; its pieces come in another order than the quarter-note file's).
- A user's JSON (``.json`` or ``.json.gz``) of the same layout: ``{"train": [...], "valid":
  [...], "test": [...]}`` (any of the three), each piece a list of steps, each step a list of
  the MIDI pitches sounding (``[]`` is silence).
- MIDI: :func:`read_midi` quantises a file onto the step grid, :func:`write_midi` writes a
  roll back (held steps merge into one note), :func:`load_midi_folder` reads a whole folder.
  MIDI goes through ``mido``.

>>> from rnnlab.data.music import load_music, write_midi
>>> train = load_music("jsb_chorales", "train")  # doctest: +SKIP
>>> train[0].shape  # doctest: +SKIP
torch.Size([129, 88])
>>> write_midi(train[0], "chorale.mid")  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import mido
import torch

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import DataFormatError, MissingDataError
from rnnlab.data.registry import Registry
from rnnlab.errors import InputError

__all__ = [
    "HIGHEST_PITCH",
    "KEYS",
    "LOWEST_PITCH",
    "MIDI_SUFFIXES",
    "SPLITS",
    "STEPS_PER_QUARTER",
    "MusicSpec",
    "load_midi_folder",
    "load_music",
    "load_music_splits",
    "music_names",
    "parse_music_json",
    "piano_roll",
    "pitch_lists",
    "read_midi",
    "register_music",
    "write_midi",
]

logger = logging.getLogger(__name__)

LOWEST_PITCH, HIGHEST_PITCH = 21, 108  # A0, C8
KEYS = HIGHEST_PITCH - LOWEST_PITCH + 1  # 88
SPLITS = ("train", "valid", "test")  # the published layout's names; "dev" is taken for "valid"
STEPS_PER_QUARTER = {"quarter": 1, "8th": 2, "16th": 4}  # resolution -> steps per quarter note
MIDI_SUFFIXES = (".mid", ".midi")
_DRUMS = 9  # MIDI channel 10 (0-based 9): percussion, whose note numbers name drums, not pitches


# ----------------------------------------------------------------------------- rolls


def piano_roll(steps: Sequence[Sequence[int]], where: str = "a piece") -> torch.Tensor:
    """The ``(T, 88)`` multi-hot roll of ``T`` steps, each a list of sounding MIDI pitches.

    Raises:
        DataFormatError: a step that is not a list of whole numbers in 21..108, or no steps at
            all (``where`` names the piece in the message).
    """
    if not isinstance(steps, list) or not steps:
        raise DataFormatError(f"{where}: a piece is a non-empty list of steps, got {steps!r:.60}")
    roll = torch.zeros(len(steps), KEYS)  # (T, 88)
    for t, step in enumerate(steps):
        if not isinstance(step, list):
            raise DataFormatError(f"{where}, step {t}: a step is a list of pitches, got {step!r}")
        for pitch in step:
            ok = isinstance(pitch, int | float) and not isinstance(pitch, bool)
            if not (ok and LOWEST_PITCH <= pitch <= HIGHEST_PITCH and pitch == int(pitch)):
                raise DataFormatError(
                    f"{where}, step {t}: pitch {pitch!r} is not a MIDI note number in "
                    f"{LOWEST_PITCH}..{HIGHEST_PITCH} (the 88 piano keys, A0..C8)"
                )
            roll[t, int(pitch) - LOWEST_PITCH] = 1.0
    return roll


def pitch_lists(roll: torch.Tensor) -> list[list[int]]:
    """The inverse of :func:`piano_roll`: each step's sounding pitches, ascending."""
    on = _binary(roll)  # (T, 88)
    return [[LOWEST_PITCH + k for k in row.nonzero().flatten().tolist()] for row in on]


def _binary(roll: torch.Tensor) -> torch.Tensor:
    """``roll`` as a ``(T, 88)`` bool tensor; InputError unless it is one of 0s and 1s."""
    if not isinstance(roll, torch.Tensor) or roll.dim() != 2 or roll.shape[1] != KEYS:
        shape = tuple(roll.shape) if isinstance(roll, torch.Tensor) else type(roll).__name__
        raise InputError(f"a piano roll is a (T, {KEYS}) tensor, got {shape}")
    if not ((roll == 0) | (roll == 1)).all():
        raise InputError(
            "a piano roll holds only 0s and 1s; sample or threshold probabilities first"
        )
    return roll.bool()


# ----------------------------------------------------------------------------- JSON layout


def parse_music_json(path: str | os.PathLike) -> dict[str, list[torch.Tensor]]:
    """``{split: [(T, 88) rolls]}`` from a JSON (``.json`` or gzipped ``.json.gz``) of the
    Boulanger-Lewandowski layout, for whichever of ``train``, ``valid``, ``test`` it holds.

    Raises:
        MissingDataError: no such file.
        DataFormatError: not JSON, another layout, an unknown split name, a bad piece or pitch
            (the message names the split, piece and step).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such music file: {path}")
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataFormatError(f"{path} is not readable JSON ({e})") from None
    layout = '{"train": [piece, ...], "valid": [...], "test": [...]}, a piece a list of steps'
    if not isinstance(raw, dict) or not raw:
        raise DataFormatError(f"{path}: expected {layout}")
    unknown = sorted(set(raw) - set(SPLITS))
    if unknown:
        raise DataFormatError(f"{path}: unknown splits {unknown}; expected {layout}")
    splits = {}
    for split, pieces in raw.items():
        if not isinstance(pieces, list):
            raise DataFormatError(f"{path}: {split} must be a list of pieces; expected {layout}")
        splits[split] = [piano_roll(p, f"{path}: {split} piece {i}") for i, p in enumerate(pieces)]
        steps = sum(len(r) for r in splits[split])
        logger.info("%s/%s: %d pieces, %d steps", path.name, split, len(pieces), steps)
    return splits


@dataclass(frozen=True)
class MusicSpec:
    """A registered music dataset: one JSON file of the layout above per resolution."""

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "music/jsb_chorales"
    files: Mapping[str, RemoteFile]  # resolution ("quarter", "8th", "16th") -> its file
    description: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.files) - set(STEPS_PER_QUARTER))
        if not self.files or unknown:
            raise ValueError(f"music dataset {self.name!r}: resolutions {sorted(self.files)}")


_MUSIC: Registry[MusicSpec] = Registry("music dataset", "music datasets")
register_music = _MUSIC.register  # (spec, replace=False) -> spec
music_names = _MUSIC.names  # () -> the registered music datasets, sorted


def load_music_splits(
    name_or_path: str | os.PathLike, resolution: str = "quarter", progress: bool = True
) -> dict[str, list[torch.Tensor]]:
    """Every split of a registered music dataset (mirror, cache or download, sha256-checked) or
    of a user's JSON file, as ``{split: [(T, 88) rolls]}``.

    Args:
        name_or_path: a registered name (:func:`music_names`: ``"jsb_chorales"``) or the path
            of a ``.json`` / ``.json.gz`` file of the same layout.
        resolution: which of a registered dataset's files: ``"quarter"`` (the published
            benchmark), ``"8th"`` or ``"16th"``. A user's file has its own steps and must be
            left at ``"quarter"``, the default.
        progress: show a progress bar if a download is needed.

    Raises:
        InputError: a resolution the dataset does not have (or one given with a user's file).
        MissingDataError: neither a registered name nor an existing file; a registered file
            that cannot be found or downloaded.
        ChecksumError, DataFormatError: as :func:`fetch` and :func:`parse_music_json` raise.
    """
    key = os.fspath(name_or_path)
    if key in _MUSIC:
        spec = _MUSIC.get(key)
        if resolution not in spec.files:
            raise InputError(
                f"{key} has resolutions {list(spec.files)}, not {resolution!r}; choose one of those"
            )
        return parse_music_json(fetch(spec.files[resolution], spec.subdir, progress=progress))
    if not Path(key).is_file():
        raise MissingDataError(
            f"{key!r} is neither a known music dataset ({', '.join(music_names())}) nor an "
            "existing .json file"
        )
    if resolution != "quarter":
        raise InputError(
            f"resolution {resolution!r} picks a file of a registered dataset; {key} is read at "
            "the steps it was written with: leave resolution at its default"
        )
    return parse_music_json(key)


def load_music(
    name_or_path: str | os.PathLike,
    split: str = "train",
    resolution: str = "quarter",
    progress: bool = True,
) -> list[torch.Tensor]:
    """One split (``"train"``, ``"valid"`` or ``"test"``; ``"dev"`` means ``"valid"``) as a list
    of ``(T, 88)`` float32 multi-hot rolls; see :func:`load_music_splits` for the arguments.

    Raises:
        InputError: a split the file does not hold, or as :func:`load_music_splits`.
    """
    wanted = "valid" if split == "dev" else split
    splits = load_music_splits(name_or_path, resolution, progress)
    if wanted not in splits:
        raise InputError(f"{os.fspath(name_or_path)} has splits {list(splits)}, not {split!r}")
    return splits[wanted]


_CZHUANG = (
    "https://raw.githubusercontent.com/czhuang/JSB-Chorales-dataset/"
    "9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d/"
)
register_music(
    MusicSpec(
        "jsb_chorales",
        "music/jsb_chorales",
        {
            "quarter": RemoteFile(
                "jsb-chorales-quarter.json",
                (_CZHUANG + "jsb-chorales-quarter.json",),
                "2db9329f1881a1d3f49703ec556bf1d6f84b4f6c1d702c156536e93cf31e1c91",
                size=407_200,
            ),
            "8th": RemoteFile(
                "jsb-chorales-8th.json",
                (_CZHUANG + "jsb-chorales-8th.json",),
                "88fb80b22829a815e8105da538d94ae803773158507e2145938351f35142390a",
                size=870_990,
            ),
            # the sha256 of the mirror's gzip once unpacked (upstream serves the plain JSON: the
            # same 1,741,172 bytes); the mirror's gzip itself is accepted as a repack
            "16th": RemoteFile(
                "jsb-chorales-16th.json",
                (_CZHUANG + "jsb-chorales-16th.json",),
                "8730aca7b64e7d29493733d1cf19fad4a5b351d8f1845e57dac27728104fd39f",
                size=1_741_172,
                mirror_repacks=(
                    (
                        "jsb-chorales-16th.json.gz",
                        "5060aca44bf226a87972b8f5d99768c9bf3ddea6194c8466c92aead1e7a9fc56",
                    ),
                ),
            ),
        },
        description="Bach chorales as piano rolls, Boulanger-Lewandowski et al. 2012's split",
    )
)


# ----------------------------------------------------------------------------- MIDI


def _check_grid(steps_per_quarter: int) -> None:
    if isinstance(steps_per_quarter, bool) or not isinstance(steps_per_quarter, int):
        raise InputError(f"steps_per_quarter must be a whole number, got {steps_per_quarter!r}")
    if not 1 <= steps_per_quarter <= 96:
        raise InputError(f"steps_per_quarter must be in 1..96, got {steps_per_quarter}")


def read_midi(path: str | os.PathLike, steps_per_quarter: int = 1) -> torch.Tensor:
    """A MIDI file as a ``(T, 88)`` roll with ``steps_per_quarter`` steps per quarter note.

    Times are read in beats (ticks / ticks per beat), so the grid ignores tempo. A note from
    tick ``a`` to tick ``b`` sounds in steps ``[q(a), max(q(b), q(a) + 1))``, where ``q`` rounds
    to the nearest step (halves up): its note-on is quantised to the grid, and a note shorter
    than a step still sounds for one. ``T`` reaches the last note's end or the end of the
    longest track, whichever is later. All tracks and channels are merged, except channel 10
    (percussion); a note-on left without a note-off lasts to the end of its track.

    Raises:
        MissingDataError: no such file.
        DataFormatError: not a readable MIDI file, one without notes, or a pitch outside
            21..108 (the message gives the pitch and where it is).
        InputError: ``steps_per_quarter`` not a whole number in 1..96.
    """
    _check_grid(steps_per_quarter)
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such MIDI file: {path}")
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as e:
        raise DataFormatError(f"{path} is not a readable MIDI file ({e})") from None
    ticks = midi.ticks_per_beat
    if not 0 < ticks < 0x8000:
        raise DataFormatError(f"{path}: SMPTE timing ({ticks}) is not supported, only beats")

    def q(tick: int) -> int:  # nearest step, halves up: floor(tick * spq / ticks + 1/2)
        return (2 * tick * steps_per_quarter + ticks) // (2 * ticks)

    notes = []  # (start tick, end tick, pitch)
    end = 0
    for track in midi.tracks:
        tick = 0
        sounding = defaultdict(list)  # (channel, pitch) -> start ticks of its open notes
        for msg in track:
            tick += msg.time
            if msg.type not in ("note_on", "note_off") or msg.channel == _DRUMS:
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                sounding[key].append(tick)
            elif sounding[key]:  # a note-off, or a note-on at velocity 0
                notes.append((sounding[key].pop(0), tick, msg.note))
        notes += [(a, tick, pitch) for (_, pitch), starts in sounding.items() for a in starts]
        end = max(end, tick)
    if not notes:
        raise DataFormatError(f"{path} holds no notes (channel 10, percussion, is not read)")
    spans = [(q(a), max(q(b), q(a) + 1), pitch) for a, b, pitch in notes]
    T = max(max(stop for _, stop, _ in spans), q(end))
    roll = torch.zeros(T, KEYS)  # (T, 88)
    for start, stop, pitch in spans:
        if not LOWEST_PITCH <= pitch <= HIGHEST_PITCH:
            beat = start / steps_per_quarter
            raise DataFormatError(
                f"{path}: pitch {pitch} at beat {beat:g} is outside the 88 piano keys "
                f"({LOWEST_PITCH}..{HIGHEST_PITCH}); transpose the piece or leave it out"
            )
        roll[start:stop, pitch - LOWEST_PITCH] = 1.0
    return roll


def write_midi(
    roll: torch.Tensor,
    path: str | os.PathLike,
    steps_per_quarter: int = 1,
    tempo: float = 120.0,
    velocity: int = 80,
    program: int = 0,
) -> Path:
    """Write a ``(T, 88)`` roll of 0s and 1s as a one-track MIDI file; return its path.

    A key on in consecutive steps is one note, from the first of them to the end of the last
    (as the JSB encoding means held notes). The track ends at step ``T``, so trailing silence
    survives: ``read_midi(write_midi(roll, p, s), s)`` equals ``roll`` for any roll with at
    least one note (a silent roll is written, but :func:`read_midi` refuses a file without notes).

    Args:
        roll: ``(T, 88)`` of 0s and 1s (float or bool); key ``k`` is MIDI pitch ``21 + k``.
        path: the file to write (its folder is created).
        steps_per_quarter: steps per quarter note (:data:`STEPS_PER_QUARTER` by resolution).
        tempo: quarter notes per minute.
        velocity: loudness of every note, 1..127.
        program: General MIDI instrument, 0..127 (0: acoustic grand piano).

    Raises:
        InputError: a roll of another shape or with other values, or a bad setting.
    """
    _check_grid(steps_per_quarter)
    on = _binary(roll)  # (T, 88)
    if not (isinstance(tempo, int | float) and 0 < tempo <= 1000):
        raise InputError(f"tempo must be in (0, 1000] quarter notes per minute, got {tempo!r}")
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (velocity, program))
    if not (whole and 1 <= velocity <= 127 and 0 <= program <= 127):
        raise InputError(
            f"velocity must be in 1..127 and program in 0..127, got {velocity}, {program}"
        )
    per_step = 480 // math.gcd(480, steps_per_quarter)  # ticks per step
    ticks = per_step * steps_per_quarter  # ticks per quarter note: 480, or a multiple of it
    T = on.shape[0]
    # change[t, k] = on[t, k] - on[t - 1, k], with silence before step 0 and after step T - 1
    padded = torch.nn.functional.pad(on.to(torch.int8), (0, 0, 1, 1))  # (T + 2, 88)
    change = padded[1:] - padded[:-1]  # (T + 1, 88): +1 a note starts at t, -1 one ends at t
    events = []  # (tick, 0 = off before 1 = on at the same tick, pitch)
    for value, kind in ((-1, 0), (1, 1)):
        for t, k in (change == value).nonzero().tolist():
            events.append((t * per_step, kind, LOWEST_PITCH + k))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    now = 0
    for tick, kind, pitch in sorted(events):
        msg = "note_on" if kind else "note_off"
        track.append(mido.Message(msg, note=pitch, velocity=velocity, time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=T * per_step - now))
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks)
    midi.tracks.append(track)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(path)
    return path


def load_midi_folder(path: str | os.PathLike, steps_per_quarter: int = 1) -> list[torch.Tensor]:
    """Every ``.mid`` / ``.midi`` file in a folder and its sub-folders, as ``(T, 88)`` rolls in
    the order of their paths; a file that cannot be read is an error, never skipped.

    Raises:
        MissingDataError: no such folder.
        DataFormatError: a folder without MIDI files, or as :func:`read_midi`.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise MissingDataError(f"no such folder of MIDI files: {folder}")
    files = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file()
    )
    if not files:
        raise DataFormatError(
            f"{folder} holds no MIDI files (names ending {' or '.join(MIDI_SUFFIXES)}, "
            "searched in its sub-folders too)"
        )
    rolls = [read_midi(p, steps_per_quarter) for p in files]
    logger.info("%s: %d MIDI files, %d steps", folder, len(rolls), sum(len(r) for r in rolls))
    return rolls
