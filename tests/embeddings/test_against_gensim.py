"""rnnlab.embeddings against gensim's KeyedVectors on identical vectors: each reads the other's
files, and nearest neighbours, 3CosAdd, 3CosMul (top-N restricted), the analogy evaluation and
the word-pair Spearman agree."""

import numpy as np
import pytest

from embedding_files import random_vectors
from rnnlab.embeddings import (
    KeyedVectors,
    evaluate_analogies,
    evaluate_word_pairs,
    read_analogies,
    read_vectors,
    read_word_pairs,
    write_vectors,
)

gensim_models = pytest.importorskip("gensim.models")
GensimKV = gensim_models.KeyedVectors


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(ours, gensim's) over the same 300 random 16-d vectors."""
    words, vectors = random_vectors(V=300, D=16, seed=3)
    ours = KeyedVectors(words, vectors)
    theirs = GensimKV(16)
    theirs.add_vectors(words, vectors)
    return ours, theirs


@pytest.mark.parametrize(("fmt", "binary", "header"), [("word2vec", False, True),
                                                       ("word2vec-binary", True, True),
                                                       ("glove", False, False)])  # fmt: skip
def test_each_reads_the_others_files(tmp_path, pair, fmt, binary, header):
    ours, theirs = pair
    write_vectors(ours, tmp_path / "ours", fmt)
    back = GensimKV.load_word2vec_format(tmp_path / "ours", binary=binary, no_header=not header)
    assert back.index_to_key == ours.words
    np.testing.assert_array_equal(back.vectors, ours.vectors)
    theirs.save_word2vec_format(str(tmp_path / "theirs"), binary=binary, write_header=header)
    mine = read_vectors(tmp_path / "theirs", format=fmt)
    assert mine.words == ours.words
    np.testing.assert_allclose(mine.vectors, ours.vectors, rtol=1e-6)  # gensim writes %f text


def _same(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's own init_sims
@pytest.mark.parametrize("restrict", [None, 100])
def test_neighbours_and_analogies(pair, restrict):
    ours, theirs = pair
    for i in range(0, 300, 37):
        a, b, c = ours.words[i], ours.words[(i * 7 + 1) % 300], ours.words[(i * 13 + 2) % 300]
        _same(ours.most_similar(a, topn=10, restrict_vocab=restrict),
              theirs.most_similar(a, topn=10, restrict_vocab=restrict))  # fmt: skip
        _same(ours.most_similar([b, c], [a], topn=10, restrict_vocab=restrict),
              theirs.most_similar([b, c], [a], topn=10, restrict_vocab=restrict))  # fmt: skip
        _same(ours.analogy(a, b, c, topn=10, restrict_vocab=restrict),
              theirs.most_similar(positive=[b, c], negative=[a], topn=10,
                                  restrict_vocab=restrict))  # fmt: skip
        # gensim 4's most_similar_cosmul takes restrict_vocab but searches every word: its
        # answers within the first `restrict` words are the restricted answers
        cosmul = theirs.most_similar_cosmul(positive=[b, c], negative=[a], topn=300)
        cosmul = [(w, s) for w, s in cosmul if theirs.get_index(w) < (restrict or 300)][:10]
        _same(ours.analogy(a, b, c, topn=10, method="mul", restrict_vocab=restrict), cosmul)
        assert ours.similarity(a, b) == pytest.approx(float(theirs.similarity(a, b)), abs=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_evaluations(tmp_path, pair):
    ours, theirs = pair
    rng = np.random.default_rng(0)
    words = ours.words
    lines = []
    for section in ("capital-world", "gram1-adjective-to-adverb"):
        lines.append(f": {section}")
        for k in range(60):
            q = [int(i) for i in rng.choice(150, 4, replace=False)]
            if k % 2:  # answerable: d is the best answer among the 150 most frequent words
                q[3] = ours.id(ours.analogy(*(words[i] for i in q[:3]), restrict_vocab=150)[0][0])
            lines.append(" ".join(words[i].upper() if i % 5 == 0 else words[i] for i in q))
        lines.append("zzz w1 w2 w3")  # out of the vocabulary: skipped by both
    (tmp_path / "q.txt").write_text("\n".join(lines) + "\n")
    for restrict in (150, 300):
        mine = evaluate_analogies(ours, read_analogies(tmp_path / "q.txt"), restrict)
        score, sections = theirs.evaluate_word_analogies(str(tmp_path / "q.txt"), restrict)
        assert mine.accuracy == pytest.approx(score) and mine.correct > 10
        for s in sections[:-1]:
            c, asked, _ = mine.sections[s["section"]]
            assert (c, asked) == (len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))
    pairs = [f"{words[i]}\t{words[j]}\t{rng.uniform(0, 10):.2f}"
             for i, j in rng.integers(0, 300, (80, 2))]  # fmt: skip
    (tmp_path / "pairs.tsv").write_text("# word1\tword2\tscore\n" + "\n".join(pairs) + "\n")
    mine = evaluate_word_pairs(ours, read_word_pairs(tmp_path / "pairs.tsv"))
    (pearson, _), (spearman, _), oov = theirs.evaluate_word_pairs(str(tmp_path / "pairs.tsv"))
    assert mine.spearman == pytest.approx(spearman, abs=1e-9)
    assert mine.pearson == pytest.approx(pearson, abs=1e-6)
    assert oov == 0 and mine.used == 80
