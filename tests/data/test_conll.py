"""Tagged sentences and their file formats: CoNLL-2003 (IOB1 to IOB2/BIOES), CoNLL-2000, CoNLL-U,
token<TAB>tag and whitespace columns, scheme detection, the seeded dev split."""

from __future__ import annotations

import doctest
import gzip

import pytest

import rnnlab.data.conll
from rnnlab.data import DataFormatError, MissingDataError
from rnnlab.data.conll import (
    TaggedSentences,
    detect_scheme,
    parse_conll2000,
    parse_conll2003,
    parse_conllu,
    parse_token_tag,
    read_tagged_path,
    split_dev_sentences,
)
from rnnlab.metrics import spans

CONLL2003 = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
Smith NNP I-NP B-PER

-DOCSTART- -X- O O

Paris NNP I-NP I-LOC
"""

CONLLU = """# newdoc id = 1
# sent_id = 1
# text = I don't know
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t0\troot\t_\t_
3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t1:x\t_

# sent_id = 2
1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def test_module_doctest():
    result = doctest.testmod(rnnlab.data.conll)
    assert result.attempted > 0 and result.failed == 0


def test_conll2003_iob1_to_iob2_and_bioes():
    data = parse_conll2003(CONLL2003, scheme="IOB1")
    assert data.tokens == [["EU", "rejects", "German", "call"],
                           ["Peter", "Blackburn", "Smith"], ["Paris"]]  # fmt: skip
    assert data.tags[1] == ["I-PER", "I-PER", "B-PER"] and data.scheme == "IOB1"
    iob2 = parse_conll2003(CONLL2003)
    assert iob2.scheme == "IOB2"
    assert iob2.tags == [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER", "B-PER"], ["B-LOC"]]
    bioes = parse_conll2003(CONLL2003, scheme="BIOES")
    assert bioes.tags == [["S-ORG", "O", "S-MISC", "O"], ["B-PER", "E-PER", "S-PER"], ["S-LOC"]]
    for a, b in zip(data.tags, bioes.tags, strict=True):
        assert spans(a, "IOB1") == spans(b, "BIOES")
    pos = parse_conll2003(CONLL2003, target="pos", scheme="BIOES")
    assert pos.tags[0] == ["NNP", "VBZ", "JJ", "NN"] and pos.scheme is None


def test_conll2000_chunks_and_pos():
    text = "He PRP B-NP\nreckons VBZ B-VP\nthe DT B-NP\ndeficit NN I-NP\n\nOK UH O\n"
    chunks = parse_conll2000(text, scheme="BIOES")
    assert chunks.tags == [["S-NP", "S-VP", "B-NP", "E-NP"], ["O"]]
    assert parse_conll2000(text, target="pos").tags[0] == ["PRP", "VBZ", "DT", "NN"]


def test_conllu_skips_comments_multiword_tokens_and_empty_nodes():
    data = parse_conllu(CONLLU)
    assert data.tokens == [["I", "do", "n't"], ["Yes"]]
    assert data.tags == [["PRON", "AUX", "PART"], ["INTJ"]]
    assert parse_conllu(CONLLU, "xpos").tags[0] == ["PRP", "VBP", "RB"]


def test_token_tag_files_and_scheme_detection(tmp_path):
    data = parse_token_tag("Mohan\tI-PER\ndrives\tO\n\nA\tB-X\nB\tI-X\n")
    assert data.tags == [["B-PER", "O"], ["B-X", "I-X"]]  # IOB1 detected, converted to IOB2
    assert detect_scheme([["B-X", "I-X", "O"]]) == "IOB2"
    assert detect_scheme([["O", "I-X"]]) == "IOB1"
    assert detect_scheme([["B-X", "I-Y"]]) == "IOB1"
    assert detect_scheme([["S-X", "O"]]) == "BIOES"
    assert detect_scheme([["NN", "VB"]]) is None
    assert detect_scheme([["O", "O"]]) is None
    path = tmp_path / "pos.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("The\tDT\ncat\tNN\n\n")
    assert read_tagged_path(path).tags == [["DT", "NN"]]
    columns = tmp_path / "ner.txt"
    columns.write_text("Paris NNP I-LOC\nis VBZ O\n")
    assert read_tagged_path(columns, scheme="BIOES").tags == [["S-LOC", "O"]]


def test_format_errors_name_the_line(tmp_path):
    with pytest.raises(DataFormatError, match=r"<conll2003>:2: expected 4 columns"):
        parse_conll2003("EU NNP I-NP I-ORG\nrejects VBZ\n")
    with pytest.raises(DataFormatError, match="no sentences"):
        parse_token_tag("\n\n")
    with pytest.raises(ValueError, match="target must be"):
        parse_conllu(CONLLU, "lemma")
    with pytest.raises(ValueError, match="tokens and"):
        TaggedSentences([["a"]], [["X", "Y"]])
    with pytest.raises(MissingDataError, match="no such file"):
        read_tagged_path(tmp_path / "nope.tsv")


def test_dev_split_is_seeded_and_keeps_order():
    text = "".join(f"w{i}\tO\n\n" for i in range(50))
    data = parse_token_tag(text, scheme=None)
    train, dev = split_dev_sentences(data, 0.2, seed=3)
    again = split_dev_sentences(data, 0.2, seed=3)[1]
    assert len(train) == 40 and len(dev) == 10 and dev.tokens == again.tokens
    assert sorted(train.tokens + dev.tokens) == sorted(data.tokens)
    assert dev.tokens == sorted(dev.tokens, key=lambda t: int(t[0][1:]))
