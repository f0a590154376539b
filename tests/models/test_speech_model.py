"""SpeechModel: the front end per recording, both objectives' shapes and losses, reading WAVs
the way a user gives them (any rate, stereo), and the bad files a user can give."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlab import audio, saved
from rnnlab.errors import UserError
from rnnlab.models.speech import SpeechConfig, SpeechModel
from speech_files import tone_word, write_wav

DIGITS = [str(d) for d in range(10)]


def model(objective="classify", **kw) -> SpeechModel:
    torch.manual_seed(0)
    labels = DIGITS
    c = SpeechConfig(num_outputs=11 if objective == "ctc" else 10, objective=objective,
                     hidden_size=16, num_layers=1, **kw)  # fmt: skip
    return SpeechModel(c, labels).eval()


def batch(lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    waves = [0.3 * torch.randn(n, generator=g) for n in lengths]
    return torch.nn.utils.rnn.pad_sequence(waves, batch_first=True), torch.tensor(lengths), waves


def test_config_refuses_bad_values():
    for bad in ({"num_outputs": 1}, {"objective": "seq2seq"}, {"features": "raw"},
                {"cell": "tcn"}, {"dropout": 1.0}, {"hop_ms": 30.0}, {"stack": 0},
                {"features": "mfcc", "n_mfcc": 50}):  # fmt: skip
        with pytest.raises(ValueError):
            SpeechConfig(**{"num_outputs": 10, **bad})
    with pytest.raises(ValueError, match="labels"):
        SpeechModel(SpeechConfig(num_outputs=11, objective="ctc"), DIGITS[:9])


@pytest.mark.parametrize("features", ["logmel", "mfcc"])
def test_features_are_the_audio_front_end_per_recording_whatever_the_padding(features):
    m = model(features=features)
    waves, n, singles = batch([4000, 2400, 800])
    x, lengths = m.features(waves, n)
    c = m.config
    assert lengths.tolist() == [audio.frames_of(k, c.hop_length) for k in (4000, 2400, 800)]
    opts = {"n_fft": c.n_fft, "hop_length": c.hop_length, "win_length": c.win_length,
            "n_mels": c.n_mels}  # fmt: skip
    for b, w in enumerate(singles):
        # x = (f(w) - mean_t) / std_t of the recording alone
        f = (
            audio.mfcc(w, 8000, n_mfcc=20, **opts)
            if features == "mfcc"
            else audio.log_mel(w, 8000, **opts)
        )
        torch.testing.assert_close(x[b, : lengths[b]], audio.cmvn(f))
        assert not x[b, lengths[b] :].any()  # padding frames stay zero


def test_stacking_puts_k_frames_side_by_side():
    m1, m3 = model(), model(stack=3)
    waves, n, _ = batch([1000, 640])
    x1, l1 = m1.features(waves, n)  # (B, T, F)
    x3, l3 = m3.features(waves, n)  # (B, ceil(T/3), 3F)
    assert l3.tolist() == [(k + 2) // 3 for k in l1.tolist()]
    F_ = x1.shape[-1]
    torch.testing.assert_close(x3[0, 1, F_ : 2 * F_], x1[0, 4])  # frame 3*1 + 1


def test_a_batch_predicts_what_each_recording_predicts_alone():
    for objective in ("classify", "ctc"):
        m = model(objective)
        waves, n, singles = batch([3000, 1200, 2000], seed=1)
        with torch.no_grad():
            out = m(waves, n)
            for b, w in enumerate(singles):
                alone = m(w.unsqueeze(0), torch.tensor([len(w)]))
                if objective == "classify":
                    torch.testing.assert_close(out[b], alone[0], atol=1e-5, rtol=1e-5)
                else:
                    T = int(alone[1][0])
                    assert int(out[1][b]) == T
                    torch.testing.assert_close(out[0][b, :T], alone[0][0], atol=1e-5, rtol=1e-5)


def test_ctc_outputs_are_log_probabilities_and_the_loss_is_torchs_ctc():
    m = model("ctc", stack=2)
    waves, n, _ = batch([4000, 3000])
    labels, label_lengths = torch.tensor([3, 4, 5, 7]), torch.tensor([3, 1])
    with torch.no_grad():
        log_probs, lengths = m(waves, n)
        torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]))
        want = F.ctc_loss(log_probs.transpose(0, 1), labels, lengths, label_lengths)
        assert float(m.loss((waves, n, (labels, label_lengths)))) == pytest.approx(float(want))


def test_classify_loss_is_cross_entropy():
    m = model()
    waves, n, _ = batch([2000, 1500])
    y = torch.tensor([3, 8])
    with torch.no_grad():
        assert float(m.loss((waves, n, y))) == pytest.approx(float(F.cross_entropy(m(waves, n), y)))


def test_symbols_to_text_for_both_alphabets():
    m = model("ctc")
    assert m.symbols_to_text([5, 1, 8]) == ("4 0 7", "407")
    chars = sorted(set("zeroonetwothreefourfivesixseveneightnine")) + [" "]
    mc = SpeechModel(SpeechConfig(num_outputs=len(chars) + 1, objective="ctc"), chars)
    ids = [chars.index(ch) + 1 for ch in "four zero seven"]
    assert mc.symbols_to_text(ids) == ("four zero seven", "407")


def test_transcribe_reads_a_stereo_48khz_wav(tmp_path):
    rng = np.random.default_rng(0)
    x = tone_word("1", 0, rng, rate=48000)
    path = write_wav(tmp_path / "stereo.wav", np.stack([x, 0.5 * x], axis=1), 48000)
    wave = model().read(path)
    assert abs(len(wave) - len(x) / 6) <= 1  # resampled to 8 kHz, mono
    for objective in ("classify", "ctc"):
        (t,) = model(objective).transcribe([path])
        assert 0.0 <= t.probability <= 1.0
        if objective == "classify":
            assert t.text in DIGITS


def test_ctc_probability_is_the_labellings_total_over_paths(tmp_path):
    rng = np.random.default_rng(1)
    path = write_wav(tmp_path / "w.wav", tone_word("2", 1, rng), 8000)
    m = model("ctc")
    (t,) = m.transcribe([path], beam=4)
    post = m.posteriors(m.read(path))  # (T', V)
    ids = [m.labels.index(d) + 1 for d in t.digits]
    nll = F.ctc_loss(
        post.log().unsqueeze(1),
        torch.tensor(ids, dtype=torch.long),
        torch.tensor([len(post)]),
        torch.tensor([len(ids)]),
        reduction="sum",
    )
    assert t.probability == pytest.approx(float(torch.exp(-nll)), rel=1e-4)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: write_wav(p, np.zeros(4000), 8000), "only silence"),
        (lambda p: write_wav(p, 0.3 * np.ones(50), 8000), "too short"),
        (lambda p: p.write_text("RIFF? no, a text file"), "WAV"),
        (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), "WAV"),
        (lambda p: None, "no such file|not found|missing|does not exist"),
    ],
)
def test_bad_recordings_get_one_clear_error_each(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(UserError, match=message):
        model().transcribe([path])


def test_saved_and_loaded_it_hears_the_same(tmp_path):
    from rnnlab.train.weights import save_weights

    rng = np.random.default_rng(2)
    path = write_wav(tmp_path / "w.wav", tone_word("3", 2, rng), 8000)
    m = model("ctc", stack=2, features="mfcc")
    saved.save_config(m, tmp_path / "run")
    save_weights(m, tmp_path / "run" / "model.safetensors")
    back = saved.load(tmp_path / "run")
    assert back.config == m.config and back.labels == m.labels
    torch.testing.assert_close(back.posteriors(back.read(path)), m.posteriors(m.read(path)))
