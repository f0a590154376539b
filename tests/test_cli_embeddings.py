"""rnnlab train embeddings, similar, analogy, evaluate and inspect embeddings on tiny files,
with a saved run or a vector file as RUN, and the one-line errors."""

import pytest
import torch

from embedding_files import planted_corpus
from rnnlab.cli import main
from rnnlab.embeddings import KeyedVectors, write_vectors


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A skip-gram run on the planted corpus, trained through the CLI."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("cli_w2v")
    corpus = planted_corpus(root / "planted.txt", sentences=1200)
    out = root / "run"
    assert main(["train", "embeddings", "--data", str(corpus), "--tokenizer", "whitespace",
                 "--dim", "16", "--min-count", "1", "--sample", "0", "--epochs", "4",
                 "--out", str(out), "--no-progress"]) == 0  # fmt: skip
    return out


def test_train_writes_the_run(run):
    for name in ("model.safetensors", "words.json", "config.json", "metrics.jsonl",
                 "learning_curve.png", "checkpoint/state.json"):  # fmt: skip
        assert (run / name).is_file(), name


def test_analogy_and_similar(run, capsys):
    assert main(["analogy", str(run), "man", "woman", "King", "--topn", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("queen\t")
    assert main(["analogy", str(run), "man", "woman", "king", "--method", "mul"]) == 0
    assert capsys.readouterr().out.startswith("queen\t")
    for metric in ("cosine", "euclidean", "manhattan"):
        assert main(["similar", str(run), "king", "--metric", metric, "--topn", "3"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert len(out) == 3 and all(line.count("\t") == 1 for line in out)


def test_evaluate_on_files_and_a_vector_file(run, tmp_path, capsys):
    (tmp_path / "q.txt").write_text(": family\nman woman king queen\nboy girl man woman\n"
                                    "man woman zebra zebras\n")  # fmt: skip
    assert main(["evaluate", str(run), "--data", str(tmp_path / "q.txt")]) == 0
    out = capsys.readouterr().out
    assert "accuracy 1.0000 (2 of 2 asked); coverage 66.7% of 3 questions" in out
    (tmp_path / "pairs.tsv").write_text("king\tqueen\t8\nking\tschool\t1\nman\tboy\t6\n")
    assert main(["evaluate", str(run), "--data", str(tmp_path / "pairs.tsv")]) == 0
    assert "Spearman" in capsys.readouterr().out
    # the same vectors as a word2vec file, as RUN
    import rnnlab

    write_vectors(rnnlab.load(run).keyed_vectors(), tmp_path / "v.txt")
    assert main(["analogy", str(tmp_path / "v.txt"), "man", "woman", "king"]) == 0
    assert capsys.readouterr().out.startswith("queen\t")
    assert main(["evaluate", str(tmp_path / "v.txt"), "--data", str(tmp_path / "q.txt")]) == 0
    assert "accuracy 1.0000" in capsys.readouterr().out


def test_inspect_draws_a_picture(run, tmp_path, capsys):
    out = tmp_path / "fig.png"
    assert main(["inspect", "embeddings", str(run), "--words", "man:woman", "king:queen",
                 "boy,girl", "--out", str(out)]) == 0  # fmt: skip
    assert out.stat().st_size > 1000 and "wrote" in capsys.readouterr().out
    pytest.importorskip("sklearn")
    assert main(["inspect", "embeddings", str(run), "--words", "man,woman,king,queen,boy,girl",
                 "--method", "tsne", "--out", str(tmp_path / "tsne.png")]) == 0  # fmt: skip
    assert (tmp_path / "tsne.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["analogy", "{run}", "man", "woman", "zebra"], "'zebra' is not in the vocabulary"),
        (["similar", "{tmp}/nothing.txt", "king"], "does not exist"),
        (["similar", "{tmp}/bad.txt", "king"], "line 2: 1 values, expected 2"),
        (["evaluate", "{run}", "--data", "{tmp}/nothing.tsv"], "--data must be"),
        (["inspect", "embeddings", "{run}", "--words", "king", "--out", "{tmp}/f.png"],
         "too few"),
        (["train", "embeddings", "--data", "{tmp}/bad.txt", "--min-count", "9", "--out",
          "{tmp}/r", "--no-progress"], "lower --min-count"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line(run, tmp_path, capsys, argv, message):
    (tmp_path / "bad.txt").write_text("x 1 2\ny 3\n")
    argv = [a.format(run=run, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_glove_file_and_resume_refusal(run, tmp_path, capsys):
    write_vectors(KeyedVectors(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]]), tmp_path / "g.txt",
                  "glove")  # fmt: skip
    assert main(["similar", str(tmp_path / "g.txt"), "a", "--metric", "manhattan"]) == 0
    assert capsys.readouterr().out.splitlines() == ["c\t1.0000", "b\t2.0000"]
    assert main(["train", "embeddings", "--data", "x.txt", "--out", str(tmp_path / "none"),
                 "--resume", "--no-progress"]) == 2  # fmt: skip


@pytest.mark.data
def test_the_registered_test_sets(data_root, run, capsys):
    """questions-words and wordsim353 from the mirror: all 14 sections, 353 pairs."""
    from rnnlab.data.word_benchmarks import word_benchmark
    from rnnlab.embeddings import read_analogies, read_word_pairs

    questions = read_analogies(word_benchmark("questions-words")[1])
    assert len(questions) == 14 and sum(map(len, questions.values())) == 19544
    assert len(read_word_pairs(word_benchmark("wordsim353")[1])) == 353
    assert main(["evaluate", str(run), "--data", "questions-words"]) == 0
    assert "of 19,544 questions" in capsys.readouterr().out
