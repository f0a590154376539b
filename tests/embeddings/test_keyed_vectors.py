"""KeyedVectors on hand-computed cases: the three metrics, 3CosAdd, 3CosMul, exclusion of the
query words, the top-N restriction, and the errors a user can cause."""

import math

import numpy as np
import pytest

from rnnlab.embeddings import KeyedVectors, UnknownWordError
from rnnlab.errors import InputError

# five words in 2-D, most frequent first
WORDS = ["a", "b", "c", "d", "e"]
VECTORS = [[1, 0], [0, 1], [1, 1], [-1, 0], [3, 4]]


@pytest.fixture
def kv():
    return KeyedVectors(WORDS, VECTORS)


# query "a" = (1, 0):
#   cosine:    c 1/sqrt(2), e 3/5, b 0, d -1
#   euclidean: c 1, b sqrt(2), d 2, e sqrt(4 + 16)
#   manhattan: c 1, b 2, d 2 (b first: more frequent), e 2 + 4
CASES = [
    ("cosine", [("c", 1 / math.sqrt(2)), ("e", 0.6), ("b", 0.0), ("d", -1.0)]),
    ("euclidean", [("c", 1.0), ("b", math.sqrt(2)), ("d", 2.0), ("e", math.sqrt(20))]),
    ("manhattan", [("c", 1.0), ("b", 2.0), ("d", 2.0), ("e", 6.0)]),
]


@pytest.mark.parametrize(("metric", "expected"), CASES)
def test_most_similar_by_hand(kv, metric, expected):
    got = kv.most_similar("a", metric=metric, topn=4)
    assert [w for w, _ in got] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-6)


def test_distance_by_hand(kv):
    assert kv.distance("b", "e", "euclidean") == pytest.approx(math.sqrt(9 + 9))
    assert kv.distance("b", "e", "manhattan") == pytest.approx(3 + 3)
    assert kv.distance("a", "b", "cosine") == pytest.approx(1.0)
    assert kv.similarity("c", "e") == pytest.approx(7 / (math.sqrt(2) * 5))


def test_several_words_and_vectors(kv):
    # distances: the query is e_b - e_a + e_c = (0, 2); nearest of d, e: d sqrt(5), e sqrt(13)
    got = kv.most_similar(["b", "c"], ["a"], metric="euclidean", topn=2)
    assert got == [("d", pytest.approx(math.sqrt(5))), ("e", pytest.approx(math.sqrt(13)))]
    # a raw vector query excludes nothing
    assert kv.most_similar(np.array([1.0, 0.0]), topn=1)[0][0] == "a"


def test_analogy_add_and_mul_by_hand():
    # a : b :: c : ?  with a=(1,0), b=(0,1), c=(1,0.1): b - a + c = (0, 1.1) -> x=(0.1, 1) nearest
    kv = KeyedVectors(["a", "b", "c", "x", "y"], [[1, 0], [0, 1], [1, 0.1], [0.1, 1], [-1, 0]])
    u = kv.unit()
    q = u[1] - u[0] + u[2]
    best = kv.analogy("a", "b", "c", topn=2)
    assert [w for w, _ in best] == ["x", "y"]
    assert best[0][1] == pytest.approx(float(u[3] @ (q / np.linalg.norm(q))), abs=1e-6)

    def cosmul(i):
        cos = [(float(u[i] @ u[j]) + 1) / 2 for j in (0, 1, 2)]
        return cos[1] * cos[2] / (cos[0] + 1e-6)

    # y = -a: cos'(y, a) = 0, so the 1e-6 in the denominator makes it 3CosMul's best answer
    # (0.5 * 0.0025 / 1e-6 ~ 1240), the known weakness the epsilon guards against
    best = kv.analogy("a", "b", "c", topn=2, method="mul")
    assert [w for w, _ in best] == ["y", "x"]
    assert [s for _, s in best] == pytest.approx([cosmul(4), cosmul(3)], rel=1e-5)


def test_question_words_are_never_answers():
    # c itself would be the nearest to b - a + c: it is excluded
    kv = KeyedVectors(["a", "b", "c", "x"], [[1, 0], [1, 0.01], [0, 1], [-1, 1]])
    assert kv.analogy("a", "b", "c", topn=1)[0][0] == "x"
    assert kv.analogy("a", "b", "c", topn=1, method="mul")[0][0] == "x"


def test_restrict_vocab(kv):
    assert [w for w, _ in kv.most_similar("a", topn=10, restrict_vocab=3)] == ["c", "b"]
    assert len(kv.restrict(2)) == 2 and kv.restrict(2).words == ["a", "b"]


def test_errors(kv):
    with pytest.raises(UnknownWordError, match="'zebra' is not in the vocabulary"):
        kv.most_similar("zebra")
    with pytest.raises(KeyError):
        kv["zebra"]
    with pytest.raises(UnknownWordError, match="did you mean 'a'"):
        kv.id("A")
    with pytest.raises(InputError, match="metric must be one of"):
        kv.most_similar("a", metric="chebyshev")
    with pytest.raises(InputError, match=r"shape \(2,\)"):
        kv.most_similar(np.zeros(3))
    with pytest.raises(InputError, match="topn"):
        kv.most_similar("a", topn=0)
    with pytest.raises(InputError, match="3CosAdd"):
        kv.analogy("a", "b", "c", method="sub")
    with pytest.raises(InputError, match="more than once"):
        KeyedVectors(["x", "x"], [[1.0], [2.0]])
    with pytest.raises(InputError, match="shape"):
        KeyedVectors(["x", "y"], [[1.0, 2.0]])
