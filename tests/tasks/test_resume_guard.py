"""One resume guard for every task (rnnlab.saved.check_same_run): a run resumed with another
vocabulary, tag set, character set, model or loader setting is refused with one error naming each
file that differs and how, and nothing in the run's directory changes; the same settings resume."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rnnlab import saved
from rnnlab.errors import InputError
from rnnlab.models.language_model import LMConfig
from rnnlab.models.seq2seq import Seq2SeqConfig
from rnnlab.models.tagger import TaggerConfig
from rnnlab.tasks.language_model import LMJob, train_lm
from rnnlab.tasks.tag import TagJob, train_tagger
from rnnlab.tasks.translate import TranslateJob, train_translate
from rnnlab.train import TrainConfig

QUIET = {"lr": 1e-2, "clip_norm": 5.0, "progress": False}
NAMES, PLACES = ["Anna", "Ravi", "Chen", "Omar"], ["Paris", "Lima", "Oslo"]
FILLER = ["the", "a", "report", "said", "today", "that"]


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` (checkpoint included) by its relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def refused(train, job, out: Path, *fragments: str) -> str:
    """Resume ``job`` in ``out``: an InputError (a ValueError) holding ``fragments``, and every
    file of ``out`` byte-identical to before."""
    before = snapshot(out)
    with pytest.raises(ValueError) as err:
        train(job)
    assert isinstance(err.value, InputError)
    message = str(err.value)
    assert message.startswith(f"cannot resume {out}: ") and "a new --out" in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert snapshot(out) == before, "a refused resume changed the run's directory"
    return message


# ---- tagging ---------------------------------------------------------------------------------


def tagged(path: Path, n: int, seed: int, words=FILLER, upper: bool = False, kinds=("PER", "LOC")):
    """``n`` token<TAB>tag sentences: filler words, "met NAME" (PER) and "in PLACE" (LOC)."""
    r, lines = random.Random(seed), []
    for _ in range(n):
        rows = [f"{r.choice(words)}\tO" for _ in range(r.randint(1, 3))]
        kind = r.choice(kinds)
        name = r.choice(NAMES if kind == "PER" else PLACES)
        rows += [f"{'met' if kind == 'PER' else 'in'}\tO",
                 f"{name.upper() if upper else name}\tB-{kind}"]  # fmt: skip
        lines.append("\n".join(rows) + "\n")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def tag_job(data: Path, out: Path, epochs: int = 1, resume: bool = False, **kw) -> TagJob:
    return TagJob(data=str(data), out=str(out), resume=resume,
                  model=TaggerConfig(vocab_size=1, num_tags=1, embed_dim=8, hidden_size=8,
                                     char_dim=4, char_hidden=4, case_dim=2, crf=False),
                  train=TrainConfig(epochs=epochs, monitor="f1", mode="max", **QUIET),
                  **{"batch_size": 8, **kw})  # fmt: skip


@pytest.fixture
def tag_run(tmp_path) -> tuple[Path, Path]:
    """(training file, out) of a one-epoch tagger with a character model."""
    data = tagged(tmp_path / "train.tsv", 40, seed=1)
    train_tagger(tag_job(data, tmp_path / "run", chars=True))
    return data, tmp_path / "run"


def test_a_tag_run_writes_its_loader_settings(tag_run):
    _, out = tag_run
    assert (out / "run.json").is_file()
    assert saved.load(out).task == "tag"
    import json

    assert json.loads((out / "run.json").read_text()) == {"batch_size": 8, "max_sentences": None}


def test_a_tag_run_with_another_vocabulary_is_refused(tag_run, tmp_path):
    _, out = tag_run
    other = tagged(tmp_path / "other.tsv", 40, seed=1, words=[*FILLER, "zebra", "quokka"])
    message = refused(train_tagger, tag_job(other, out, chars=True, resume=True), out,
                      "vocab.json: ", "words differ (first: ")  # fmt: skip
    assert "zebra" in message or "quokka" in message


def test_a_tag_run_with_another_tag_set_is_refused(tag_run, tmp_path):
    _, out = tag_run
    other = tagged(tmp_path / "misc.tsv", 40, seed=1, kinds=("PER", "LOC", "MISC"))
    refused(train_tagger, tag_job(other, out, chars=True, resume=True), out,
            "tags.json: 1 tag differs (first: 'B-MISC')")  # fmt: skip


def test_a_tag_run_with_another_character_set_is_refused(tag_run, tmp_path):
    data, out = tag_run
    # the same words once lower-cased (the word vocabulary), the names in capitals (characters)
    other = tagged(tmp_path / "upper.tsv", 40, seed=1, upper=True)
    message = refused(train_tagger, tag_job(other, out, chars=True, resume=True), out,
                      "chars.json: ", "characters differ")  # fmt: skip
    assert "vocab.json" not in message and "tags.json" not in message


def test_a_tag_run_without_characters_and_other_loader_settings_is_refused(tag_run):
    data, out = tag_run
    refused(train_tagger, tag_job(data, out, resume=True, batch_size=4), out,
            "config.json: different model.num_chars",
            "run.json: different batch_size (8, now 4)")  # fmt: skip


def test_a_tag_run_with_the_same_settings_resumes(tag_run):
    data, out = tag_run
    result = train_tagger(tag_job(data, out, epochs=2, chars=True, resume=True))
    assert len(result.history) == 2


def test_a_run_from_before_run_json_resumes(tag_run):
    data, out = tag_run
    (out / "run.json").unlink()
    result = train_tagger(tag_job(data, out, epochs=2, chars=True, resume=True, batch_size=8))
    assert len(result.history) == 2


# ---- translation -----------------------------------------------------------------------------

LEXICON = {"ein": "a", "hund": "dog", "katze": "cat", "rennt": "runs", "gras": "grass"}


def write_pairs(root: Path, name: str, n: int, seed: int, lexicon=LEXICON) -> tuple[Path, Path]:
    r, src, tgt = random.Random(seed), [], []
    for _ in range(n):
        words = [r.choice(list(lexicon)) for _ in range(r.randint(2, 5))]
        src.append(" ".join(words) + "\n")
        tgt.append(" ".join(lexicon[w] for w in words) + "\n")
    (root / f"{name}.src").write_text("".join(src), encoding="utf-8")
    (root / f"{name}.tgt").write_text("".join(tgt), encoding="utf-8")
    return root / f"{name}.src", root / f"{name}.tgt"


def mt_job(files, out: Path, resume: bool = False, **kw) -> TranslateJob:
    (src, tgt), (dev_src, dev_tgt) = files
    return TranslateJob(data=None, src_lang="xx", tgt_lang="yy", src_file=str(src),
                        tgt_file=str(tgt), dev_src=str(dev_src), dev_tgt=str(dev_tgt),
                        out=str(out), min_freq=1, batch_size=16, beam=1, eval_splits=("dev",),
                        model=Seq2SeqConfig(1, 1, attention="general", embed_dim=8,
                                            hidden_size=8, dropout=0.0),
                        resume=resume,
                        **{"train": TrainConfig(epochs=1, **QUIET), **kw})  # fmt: skip


def test_a_translate_run_with_another_vocabulary_is_refused_and_the_same_resumes(tmp_path):
    files = (write_pairs(tmp_path, "train", 40, 1), write_pairs(tmp_path, "dev", 10, 2))
    out = tmp_path / "run"
    train_translate(mt_job(files, out))
    # "hund" -> "hound" on the source side: the target vocabulary and every size stay the same
    other = {("hound" if k == "hund" else k): v for k, v in LEXICON.items()}
    changed = (write_pairs(tmp_path, "other", 40, 1, other), files[1])
    message = refused(train_translate, mt_job(changed, out, resume=True), out,
                      "src_vocab.json: 2 words differ (first: 'hound')")  # fmt: skip
    assert "config.json" not in message and "tgt_vocab.json" not in message
    refused(train_translate, mt_job(files, out, resume=True, max_train_len=3), out,
            "run.json: different max_train_len (80, now 3)")  # fmt: skip
    result = train_translate(mt_job(files, out, resume=True, train=TrainConfig(epochs=2, **QUIET)))
    assert len(result.history) == 2


# ---- language model: the carried state's shape ------------------------------------------------


def test_a_stream_lm_run_with_another_batch_size_or_bptt_is_refused(tmp_path):
    text = tmp_path / "hello.txt"
    text.write_text("hello world. " * 40, encoding="utf-8")
    out = tmp_path / "run"

    def job(resume=False, **kw):
        return LMJob(data=str(text), out=str(out), level="char", resume=resume,
                     model=LMConfig(vocab_size=1, embed_dim=8, hidden_size=8, num_layers=1),
                     train=TrainConfig(epochs=1, **QUIET), **{"batch_size": 4, **kw})  # fmt: skip

    train_lm(job())
    refused(train_lm, job(resume=True, batch_size=2), out,
            "run.json: different batch_size (4, now 2)")  # fmt: skip
    refused(train_lm, job(resume=True, bptt=50), out, "different bptt (100, now 50)")
    refused(train_lm, job(resume=True, bptt=50, batch_size=2), out,
            "different batch_size (4, now 2), different bptt (100, now 50)")  # fmt: skip
    # the default bptt of characters is 100: giving it explicitly is the same run
    assert len(train_lm(job(resume=True, bptt=100)).history) == 1


# ---- check_same_run itself -------------------------------------------------------------------


def test_nothing_to_resume(tmp_path):
    from rnnlab.errors import MissingFileError

    with pytest.raises(MissingFileError, match="nothing to resume"):
        saved.check_same_run(object(), tmp_path)


def test_a_config_key_and_a_missing_file_are_named(tag_run):
    _, out = tag_run
    model = saved.load(out)
    saved.check_same_run(model, out, {"batch_size": 8, "max_sentences": None})  # the same run
    (out / "chars.json").unlink()
    with pytest.raises(InputError, match="chars.json is missing"):
        saved.check_same_run(model, out)
    model.scheme = "BIOES"
    with pytest.raises(InputError, match=r"config.json: different scheme \('IOB2', now 'BIOES'\)"):
        saved.check_same_run(model, out)
