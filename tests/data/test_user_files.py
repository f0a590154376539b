import pytest

from rnnlab.data import (
    DataFormatError,
    LabelledTexts,
    MissingDataError,
    load_folder,
    load_path,
    load_tsv,
)


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def test_tsv_basic(tmp_path):
    path = write(tmp_path / "a.tsv", "great phone\tpos\nawful\tneg\n\nfine, really\tpos\n")
    data = load_tsv(path)
    assert data.texts == ["great phone", "awful", "fine, really"]
    assert data.label_names == ["neg", "pos"]  # sorted
    assert data.labels == [1, 0, 1]


def test_tsv_header_detection(tmp_path):
    data = load_tsv(write(tmp_path / "h.tsv", "text\tlabel\ngood\tpos\nbad\tneg\n"))
    assert data.texts == ["good", "bad"]
    data = load_tsv(write(tmp_path / "h2.tsv", "review\tSentiment\ngood\tpos\nbad\tneg\n"))
    assert len(data) == 2
    # "class" is a real label here (it occurs again), so line 1 is data, not a header
    data = load_tsv(write(tmp_path / "n.tsv", "a\tclass\nb\tother\nc\tclass\n"))
    assert data.texts == ["a", "b", "c"] and data.label_names == ["class", "other"]
    # a first line whose label is not a header word is data
    assert len(load_tsv(write(tmp_path / "d.tsv", "text\tpos\nb\tneg\n"))) == 2


def test_tsv_tabs_crlf_bom_and_spaces(tmp_path):
    raw = "\ufeffcol1\tcol2 text\t 1 \r\nsecond\t0\r\n"
    data = load_tsv(write(tmp_path / "w.tsv", raw))
    assert data.texts == ["col1\tcol2 text", "second"]  # split at the last tab
    assert data.labels == [1, 0] and data.label_names == ["0", "1"]


def test_tsv_numeric_labels_sort_numerically(tmp_path):
    data = load_tsv(write(tmp_path / "n.tsv", "a\t10\nb\t2\nc\t-1\n"))
    assert data.label_names == ["-1", "2", "10"]
    assert data.labels == [2, 1, 0]


@pytest.mark.parametrize(
    "text, match",
    [
        ("ok\tpos\nok\tneg\nno tab here\n", r"bad\.tsv:3: expected 'text<TAB>label'"),
        ("ok\tpos\n\t neg\n", r"bad\.tsv:2: empty text"),
        ("ok\tpos\n\nok\t \n", r"bad\.tsv:3: empty label"),
        ("", "has no examples"),
        ("\n \n", "has no examples"),
        ("text\tlabel\n", "has no examples"),  # header only
        ("a\tpos\nb\tpos\n", "only one label .'pos'."),
    ],
)
def test_tsv_errors_name_file_and_line(tmp_path, text, match):
    with pytest.raises(DataFormatError, match=match):
        load_tsv(write(tmp_path / "bad.tsv", text))


def test_tsv_not_utf8(tmp_path):
    path = tmp_path / "latin.tsv"
    path.write_bytes("café\tpos\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="not UTF-8"):
        load_tsv(path)


def test_tsv_with_given_label_names(tmp_path):
    path = write(tmp_path / "dev.tsv", "x\tpos\ny\tpos\n")
    data = load_tsv(path, label_names=["neg", "pos"])  # one class is fine for a dev set
    assert data.labels == [1, 1] and data.label_names == ["neg", "pos"]
    write(path, "x\tpos\ny\tneutral\n")
    with pytest.raises(DataFormatError, match=r"dev\.tsv:2: label 'neutral' is not one of"):
        load_tsv(path, label_names=["neg", "pos"])


def test_tsv_missing(tmp_path):
    with pytest.raises(MissingDataError, match="no such file"):
        load_tsv(tmp_path / "nope.tsv")
    with pytest.raises(FileNotFoundError):  # MissingDataError is one
        load_tsv(tmp_path / "nope.tsv")


def make_folder(root, classes):
    for name, texts in classes.items():
        (root / name).mkdir(parents=True)
        for i, text in enumerate(texts):
            write(root / name / f"{i:03d}.txt", text)
    return root


def test_folder_basic(tmp_path):
    root = make_folder(tmp_path / "reviews", {"pos": ["good\n", "great"], "neg": ["bad"]})
    write(root / "pos" / ".hidden", "ignored")
    (root / ".git").mkdir()
    write(root / "README", "a stray file at the top is not a class")
    data = load_folder(root)
    assert data.label_names == ["neg", "pos"]
    assert data.texts == ["bad", "good", "great"]
    assert data.labels == [0, 1, 1]
    assert load_path(root) == data


@pytest.mark.parametrize(
    "classes, match",
    [
        ({"pos": ["good"]}, "only one label"),
        ({}, "no sub-folders"),
        ({"pos": ["good"], "neg": [" \n"]}, r"neg/000\.txt is empty"),
        ({"pos": ["good"], "neg": []}, "has no files"),
    ],
)
def test_folder_errors(tmp_path, classes, match):
    root = make_folder(tmp_path / "d", classes)
    root.mkdir(exist_ok=True)
    with pytest.raises(DataFormatError, match=match):
        load_folder(root)


def test_folder_with_given_label_names(tmp_path):
    root = make_folder(tmp_path / "d", {"pos": ["good"], "meh": ["so-so"]})
    with pytest.raises(DataFormatError, match="label 'meh' is not one of"):
        load_folder(root, label_names=["neg", "pos"])


def test_load_path_dispatch_and_missing(tmp_path):
    tsv = write(tmp_path / "a.tsv", "x\ta\ny\tb\n")
    assert load_path(tsv).texts == ["x", "y"]
    with pytest.raises(MissingDataError, match="no such file or folder"):
        load_path(tmp_path / "missing")
    with pytest.raises(MissingDataError, match="no such folder"):
        load_folder(tsv)


@pytest.mark.parametrize(
    "args, match",
    [
        ((["a"], [0, 1], ["x", "y"]), "1 texts but 2 labels"),
        ((["a"], [2], ["x", "y"]), r"label 2 of example 0 is not an int in \[0, 2\)"),
        ((["a"], [True], ["x", "y"]), "not an int"),
        ((["a"], [0], []), "non-empty"),
        ((["a"], [0], ["x", "x"]), "unique"),
    ],
)
def test_labelled_texts_validates(args, match):
    with pytest.raises(ValueError, match=match):
        LabelledTexts(*args)
