"""The PTB-bracket tree reader (rnnlab.data.sst_trees) on hand-written trees."""

import doctest
import gzip

import pytest

import rnnlab.data.sst_trees
from rnnlab.data import DataFormatError, MissingDataError
from rnnlab.data.sst_trees import Tree, parse_tree, read_trees, unescape


def test_module_doctest():
    result = doctest.testmod(rnnlab.data.sst_trees)
    assert result.attempted > 0 and result.failed == 0


def test_a_leaf():
    tree = parse_tree("(2 film)")
    assert tree == Tree(2, word="film")
    assert tree.words == ["film"] and tree.leaves() == [tree]
    assert tree.phrases() == [(("film",), 2)]


def test_nesting_words_leaves_and_phrases():
    #        3
    #      /   \
    #     2     4
    #   /  \     \
    #  2    1     4
    #  a  dull    (3 (3 good) (2 one))
    tree = parse_tree("(3 (2 (2 a) (1 dull)) (4 (3 (3 good) (2 one))))\n")
    assert tree.label == 3 and len(tree.children) == 2 and tree.word is None
    assert tree.words == ["a", "dull", "good", "one"]
    assert [(leaf.word, leaf.label) for leaf in tree.leaves()] == [
        ("a", 2),
        ("dull", 1),
        ("good", 3),
        ("one", 2),
    ]
    assert tree.phrases() == [  # pre-order: every node, a single child included
        (("a", "dull", "good", "one"), 3),
        (("a", "dull"), 2),
        (("a",), 2),
        (("dull",), 1),
        (("good", "one"), 4),
        (("good", "one"), 3),
        (("good",), 3),
        (("one",), 2),
    ]


def test_blanks_between_tokens_do_not_matter():
    assert parse_tree("  ( 3 (2 a)\t(4  b ) ) ") == parse_tree("(3 (2 a) (4 b))")


@pytest.mark.parametrize(
    "escaped, text",
    [
        ("-LRB-", "("),
        ("-RRB-", ")"),
        ("-LSB-", "["),
        ("-RSB-", "]"),
        ("-LCB-", "{"),
        ("-RCB-", "}"),
        ("\\/", "/"),
        ("\\*", "*"),
        ("writer\\/director", "writer/director"),
        ("\\*\\*\\*", "***"),
        ("-LRB-sic-RRB-", "(sic)"),
        ("-lrb-", "-lrb-"),  # only the upper-case PTB forms are escapes
        ("AT&T", "AT&T"),
    ],
)
def test_escapes_are_undone(escaped, text):
    assert unescape(escaped) == text
    assert parse_tree(f"(2 (2 {escaped}) (2 x))").words == [text, "x"]


def test_words_keep_case_and_inner_no_break_spaces():
    # SST writes "8 1/2" as one leaf with a no-break space; only ASCII blanks separate tokens
    tree = parse_tree("(2 (2 Fellini) (2 8\xa01\\/2))")
    assert tree.words == ["Fellini", "8\xa01/2"]
    assert " ".join(tree.words) == "Fellini 8\xa01/2"


def test_tree_holds_a_word_or_children():
    with pytest.raises(ValueError, match="either a word"):
        Tree(2)
    with pytest.raises(ValueError, match="either a word"):
        Tree(2, (Tree(1, word="a"),), word="b")


@pytest.mark.parametrize(
    "line, message",
    [
        ("", r"empty line"),
        ("   ", r"empty line"),
        ("(2 (2 a) (3 b)", r"unbalanced brackets: '\(' is never closed \(column 1\)"),
        ("(2 (2 a) (3 b", r"unbalanced brackets: '\(' is never closed \(column 10\)"),
        ("(2 (2 a) (3 b)))", r"unbalanced brackets: '\)' with no '\(' to close \(column 16\)"),
        ("(2 a))", r"unbalanced brackets: '\)' with no '\(' to close \(column 6\)"),
        ("(", r"unbalanced brackets"),
        ("((2 a) (3 b))", r"missing label after '\(' \(column 2\)"),
        ("(2 (2 a) ( ))", r"missing label after '\(' \(column 12\)"),
        ("(2 (2 a) ( b))", r"label 'b' is not a non-negative integer \(column 12\)"),
        ("(2 ())", r"missing label"),
        ("(pos (2 a) (3 b))", r"label 'pos' is not a non-negative integer \(column 2\)"),
        ("(2 (2 a) (2.5 b))", r"label '2.5' is not a non-negative integer"),
        ("(-1 a)", r"label '-1' is not a non-negative integer"),
        ("(2)", r"node with label 2 has neither a word nor sub-trees"),
        (
            "(2 a b)",
            r"a node holds either one word or sub-trees, got 2 word\(s\) and 0 sub-tree\(s\)",
        ),
        (
            "(2 a (3 b))",
            r"a node holds either one word or sub-trees, got 1 word\(s\) and 1 sub-tree\(s\)",
        ),
        ("a (2 b)", r"expected '\(' to open the tree, got 'a' \(column 1\)"),
        ("(2 a) (3 b)", r"text after the tree ends: '\(' \(column 7\)"),
        ("(2 a) b", r"text after the tree ends: 'b'"),
    ],
)
def test_malformed_lines(line, message):
    with pytest.raises(DataFormatError, match=rf"^dev\.txt:7: {message}"):
        parse_tree(line, "dev.txt:7")


def test_read_trees_plain_and_gzipped(tmp_path):
    text = "(3 (2 a) (4 b))\n(1 (1 bad) (2 .))\n"
    plain = tmp_path / "train.txt"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "train.txt.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    trees = read_trees(plain)
    assert [t.words for t in trees] == [["a", "b"], ["bad", "."]]
    assert read_trees(packed) == trees
    plain.write_text(text.rstrip("\n"), encoding="utf-8")  # no final newline: the same trees
    assert read_trees(plain) == trees


@pytest.mark.parametrize(
    "text, message",
    [
        ("(3 (2 a) (4 b))\n\n(1 c)\n", r"train\.txt:2: empty line"),
        ("(3 (2 a) (4 b))\n(1 c)\n\n", r"train\.txt:3: empty line"),
        ("(3 (2 a) (4 b))\n(1 (1 c)\n", r"train\.txt:2: unbalanced brackets"),
        ("(3 (2 a) (4 b))\n(1 c)\n(x d)\n", r"train\.txt:3: label 'x'"),
        ("", r"train\.txt has no trees"),
    ],
)
def test_read_trees_names_file_and_line(tmp_path, text, message):
    path = tmp_path / "train.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        read_trees(path)


def test_read_trees_unreadable_files(tmp_path):
    with pytest.raises(MissingDataError, match="no such file"):
        read_trees(tmp_path / "none.txt")
    bad = tmp_path / "train.txt.gz"
    bad.write_bytes(b"(2 a)\n")  # not gzip
    with pytest.raises(DataFormatError, match=r"cannot read trees from .*train\.txt\.gz"):
        read_trees(bad)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("(2 caf\xe9)\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="cannot read trees"):
        read_trees(latin)
