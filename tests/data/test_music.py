"""Piano rolls: the JSON layout (a user's file, a registered dataset served from a file:// URL,
the real JSB chorales), MIDI read from files written here by mido, MIDI written and read back."""

from __future__ import annotations

import gzip
import hashlib
import json

import mido
import pytest
import torch

from rnnlab import data
from rnnlab.data import DataFormatError, MissingDataError, RemoteFile
from rnnlab.data.music import (
    _MUSIC,
    KEYS,
    MusicSpec,
    load_midi_folder,
    load_music,
    load_music_splits,
    music_names,
    piano_roll,
    pitch_lists,
    read_midi,
    write_midi,
)
from rnnlab.errors import InputError

TINY = {
    "train": [[[60, 64, 67], [60, 64, 67], []], [[21], [108, 21]]],
    "valid": [[[72.0], [48]]],  # whole numbers written as floats are read
    "test": [[[55, 59]]],
}


def roll_of(*steps) -> torch.Tensor:
    """A (T, 88) roll written by hand: each argument is one step's MIDI pitches."""
    roll = torch.zeros(len(steps), KEYS)
    for t, pitches in enumerate(steps):
        for p in pitches:
            roll[t, p - 21] = 1.0
    return roll


def write_json(path, obj):
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- rolls and JSON


def test_piano_roll_and_its_inverse():
    roll = piano_roll([[21, 60], [], [108, 60, 60]])
    assert roll.dtype == torch.float32 and roll.shape == (3, 88)
    assert roll.sum().item() == 4
    assert roll[0, 0] == roll[0, 39] == roll[2, 87] == roll[2, 39] == 1
    assert pitch_lists(roll) == [[21, 60], [], [60, 108]]


@pytest.mark.parametrize(
    "steps, message",
    [
        ([[60], [20]], "step 1: pitch 20 is not a MIDI note number in 21..108"),
        ([[109]], "pitch 109 is not"),
        ([[60.5]], "pitch 60.5 is not"),
        ([["60"]], "pitch '60' is not"),
        ([[True]], "pitch True is not"),
        ([[float("nan")]], "pitch nan is not"),
        ([60, 64], "step 0: a step is a list of pitches"),
        ([], "a piece is a non-empty list of steps"),
    ],
)
def test_bad_pieces_are_named(steps, message):
    with pytest.raises(DataFormatError, match=message):
        piano_roll(steps, "song.json: train piece 3")


def test_user_json_with_every_split(tmp_path):
    path = write_json(tmp_path / "tiny.json", TINY)
    splits = load_music_splits(path)
    assert {k: len(v) for k, v in splits.items()} == {"train": 2, "valid": 1, "test": 1}
    train = load_music(path, "train")
    assert [r.shape for r in train] == [(3, 88), (2, 88)]
    assert torch.equal(train[0], roll_of([60, 64, 67], [60, 64, 67], []))
    assert torch.equal(train[1], roll_of([21], [21, 108]))
    assert torch.equal(load_music(str(path), "dev")[0], roll_of([72], [48]))  # dev = valid
    assert torch.equal(load_music(path, "test")[0], roll_of([55, 59]))


def test_gzipped_json_and_a_file_with_train_only(tmp_path):
    path = tmp_path / "tiny.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"train": TINY["train"]}).encode()))
    assert len(load_music(path, "train")) == 2
    with pytest.raises(InputError, match=r"has splits \['train'\], not 'test'"):
        load_music(path, "test")


def test_user_json_errors(tmp_path):
    with pytest.raises(MissingDataError, match="neither a known music dataset.*nor an existing"):
        load_music(tmp_path / "absent.json")
    (tmp_path / "cut.json").write_text('{"train": [[[60')
    with pytest.raises(DataFormatError, match="cut.json is not readable JSON"):
        load_music(tmp_path / "cut.json")
    with pytest.raises(DataFormatError, match=r"unknown splits \['validation'\]"):
        load_music(write_json(tmp_path / "a.json", {"train": [], "validation": []}))
    with pytest.raises(DataFormatError, match="expected"):
        load_music(write_json(tmp_path / "b.json", [[[60]]]))
    bad = {"train": [[[60]], [[60], [61, 7]]]}
    with pytest.raises(DataFormatError, match=r"c.json: train piece 1, step 1: pitch 7 is not"):
        load_music(write_json(tmp_path / "c.json", bad))
    with pytest.raises(InputError, match="leave resolution at its default"):
        load_music(write_json(tmp_path / "d.json", TINY), resolution="16th")


# ----------------------------------------------------------------------------- the registry


def test_music_has_its_own_registry():
    assert music_names() == ["jsb_chorales"]
    assert "jsb_chorales" not in data.names()
    spec = _MUSIC.get("jsb_chorales")
    assert list(spec.files) == ["quarter", "8th", "16th"]
    assert (
        spec.files["quarter"]
        .urls[0]
        .startswith("https://raw.githubusercontent.com/czhuang/JSB-Chorales-dataset/9a7f733")
    )
    assert [name for name, _ in spec.files["16th"].mirror_repacks] == ["jsb-chorales-16th.json.gz"]
    with pytest.raises(InputError, match=r"resolutions \['quarter', '8th', '16th'\], not '32nd'"):
        load_music("jsb_chorales", resolution="32nd")
    with pytest.raises(ValueError, match="resolutions"):
        MusicSpec("x", "music/x", {"whole": spec.files["quarter"]})


def test_a_registered_dataset_is_downloaded_and_checked(tmp_path, monkeypatch):
    server = write_json(tmp_path / "server.json", TINY)
    sha = hashlib.sha256(server.read_bytes()).hexdigest()
    spec = MusicSpec(
        "toy", "music/toy", {"quarter": RemoteFile("toy.json", (server.as_uri(),), sha)}
    )
    monkeypatch.setitem(_MUSIC._specs, "toy", spec)
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    assert len(load_music("toy", "train", progress=False)) == 2
    assert (tmp_path / "cache" / "music" / "toy" / "toy.json").is_file()
    with pytest.raises(InputError, match=r"toy has resolutions \['quarter'\], not '8th'"):
        load_music("toy", resolution="8th")


# ----------------------------------------------------------------------------- MIDI


def midi_file(path, tracks, ticks_per_beat=96):
    """A type-1 MIDI file of ``tracks``: lists of (message type, note, velocity, delta ticks[,
    channel]) written with mido directly."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for events in tracks:
        track = mido.MidiTrack()
        for kind, note, velocity, delta, *channel in events:
            ch = channel[0] if channel else 0
            track.append(mido.Message(kind, note=note, velocity=velocity, time=delta, channel=ch))
        midi.tracks.append(track)
    midi.save(path)
    return path


def test_read_midi_quantises_merges_tracks_and_skips_drums(tmp_path):
    path = midi_file(
        tmp_path / "two_tracks.mid",
        [
            [  # 96 ticks a beat: C4 for two beats, E4 starts at 1.04 beats (rounds to step 1)
                ("note_on", 60, 90, 0),
                ("note_on", 64, 90, 100),
                ("note_off", 60, 0, 92),  # tick 192: C4 ends after step 1
                ("note_on", 64, 0, 96),  # velocity 0 ends E4 at tick 288: step 3
            ],
            [  # a 20-tick grace note at beat 3, and a drum on channel 10 that is not read
                ("note_on", 36, 0, 0, 9),
                ("note_on", 35, 100, 0, 9),
                ("note_on", 48, 80, 288),
                ("note_off", 48, 0, 20),
                ("note_off", 35, 0, 200, 9),  # the longest track ends at tick 508: 5.3 steps
            ],
        ],
    )
    expected = roll_of([60], [60, 64], [64], [48], [])
    assert torch.equal(read_midi(path), expected)
    at_8ths = read_midi(path, steps_per_quarter=2)
    assert at_8ths.shape == (11, 88)
    assert pitch_lists(at_8ths)[:7] == [[60], [60], [60, 64], [60, 64], [64], [64], [48]]


def test_note_without_note_off_lasts_to_the_end_of_its_track(tmp_path):
    # both stay open; the track ends at tick 192 (step 2), so the late one gets its one step
    path = midi_file(tmp_path / "open.mid", [[("note_on", 70, 64, 0), ("note_on", 72, 64, 192)]])
    assert torch.equal(read_midi(path), roll_of([70], [70], [72]))


@pytest.mark.parametrize("steps_per_quarter", [1, 2, 4, 3])
def test_roll_to_midi_to_roll_is_exact(tmp_path, steps_per_quarter):
    g = torch.Generator().manual_seed(steps_per_quarter)
    roll = (torch.rand(40, KEYS, generator=g) < 0.05).float()
    roll[:2] = 0  # leading and trailing silence are kept
    roll[-3:] = 0
    roll[5:9, 39] = 1  # a held C4
    path = write_midi(roll, tmp_path / "out" / "roll.mid", steps_per_quarter, tempo=90.5)
    assert torch.equal(read_midi(path, steps_per_quarter), roll)


def test_held_steps_are_one_note(tmp_path):
    roll = roll_of([60], [60, 64], [60], [], [60], [60])
    path = write_midi(roll, tmp_path / "held.mid", tempo=60, velocity=100, program=19)
    midi = mido.MidiFile(path)
    assert midi.ticks_per_beat == 480 and len(midi.tracks) == 1
    ons = [m for m in midi.tracks[0] if m.type == "note_on"]
    assert [(m.note, m.velocity) for m in ons] == [(60, 100), (64, 100), (60, 100)]
    programs = [m.program for m in midi.tracks[0] if m.type == "program_change"]
    assert programs == [19]
    assert midi.length == pytest.approx(6.0)  # six quarter notes at 60 per minute
    assert torch.equal(read_midi(path), roll)


def test_write_midi_errors(tmp_path):
    with pytest.raises(InputError, match="holds only 0s and 1s; sample or threshold"):
        write_midi(torch.full((3, KEYS), 0.7), tmp_path / "p.mid")
    with pytest.raises(InputError, match=r"a piano roll is a \(T, 88\) tensor, got \(3, 128\)"):
        write_midi(torch.zeros(3, 128), tmp_path / "p.mid")
    with pytest.raises(InputError, match="tempo"):
        write_midi(torch.zeros(3, KEYS), tmp_path / "p.mid", tempo=0)
    with pytest.raises(InputError, match="velocity"):
        write_midi(torch.zeros(3, KEYS), tmp_path / "p.mid", velocity=128)
    with pytest.raises(InputError, match="steps_per_quarter must be in 1..96"):
        write_midi(torch.zeros(3, KEYS), tmp_path / "p.mid", steps_per_quarter=0)
    assert not (tmp_path / "p.mid").exists()


def test_read_midi_errors(tmp_path):
    with pytest.raises(MissingDataError, match="no such MIDI file"):
        read_midi(tmp_path / "absent.mid")
    (tmp_path / "text.mid").write_text("these are not the notes you are looking for")
    with pytest.raises(DataFormatError, match="text.mid is not a readable MIDI file"):
        read_midi(tmp_path / "text.mid")
    empty = midi_file(tmp_path / "empty.mid", [[]])
    with pytest.raises(DataFormatError, match="empty.mid holds no notes"):
        read_midi(empty)
    drums = midi_file(tmp_path / "drums.mid", [[("note_on", 38, 90, 0, 9)]])
    with pytest.raises(DataFormatError, match="holds no notes.*percussion"):
        read_midi(drums)
    low = midi_file(tmp_path / "low.mid", [[("note_on", 60, 90, 0), ("note_on", 12, 90, 192)]])
    with pytest.raises(DataFormatError, match="pitch 12 at beat 2 is outside the 88 piano keys"):
        read_midi(low)
    with pytest.raises(InputError, match="steps_per_quarter must be a whole number"):
        read_midi(low, steps_per_quarter=1.5)


def test_midi_folder(tmp_path):
    folder = tmp_path / "songs"
    write_midi(roll_of([60], [62]), folder / "b.mid")
    write_midi(roll_of([67]), folder / "a" / "z.MIDI")  # sub-folders and upper case are read
    (folder / "notes.txt").write_text("not music")
    rolls = load_midi_folder(folder)
    assert [pitch_lists(r) for r in rolls] == [[[67]], [[60], [62]]]  # a/z.MIDI before b.mid
    with pytest.raises(MissingDataError, match="no such folder of MIDI files"):
        load_midi_folder(tmp_path / "absent")
    (tmp_path / "quiet").mkdir()
    with pytest.raises(DataFormatError, match="quiet holds no MIDI files"):
        load_midi_folder(tmp_path / "quiet")
    (folder / "a" / "broken.mid").write_bytes(b"MThd")
    with pytest.raises(DataFormatError, match="broken.mid is not a readable MIDI file"):
        load_midi_folder(folder)


# ----------------------------------------------------------------------------- the real data


@pytest.mark.data
@pytest.mark.parametrize("resolution, train_steps", [("quarter", 13807), ("8th", 27614)])
def test_jsb_chorales_split_and_range(data_root, monkeypatch, resolution, train_steps):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    splits = load_music_splits("jsb_chorales", resolution, progress=False)
    assert {k: len(v) for k, v in splits.items()} == {"train": 229, "valid": 76, "test": 77}
    assert sum(len(r) for r in splits["train"]) == train_steps
    rolls = [r for pieces in splits.values() for r in pieces]
    assert all(r.dtype == torch.float32 and r.shape[1] == 88 for r in rolls)
    assert all(((r == 0) | (r == 1)).all() for r in rolls)
    used = torch.cat(rolls).amax(0).nonzero().flatten()  # keys ever sounding
    low, high = {"quarter": (43, 96), "8th": (36, 81)}[resolution]
    assert (used.min().item() + 21, used.max().item() + 21) == (low, high)


@pytest.mark.data
def test_jsb_chorales_16th_from_the_mirrors_gzip_and_midi_round_trip(
    data_root, monkeypatch, tmp_path
):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    test = load_music("jsb_chorales", "test", resolution="16th", progress=False)
    assert len(test) == 77
    quarter = load_music("jsb_chorales", "test", progress=False)
    assert sum(len(r) for r in test) == 4 * sum(len(r) for r in quarter)
    for i, roll in enumerate(quarter):
        path = write_midi(roll, tmp_path / f"{i}.mid")
        assert torch.equal(read_midi(path), roll), f"test chorale {i}"
