import pytest

from rnnlab.text import tokenize


@pytest.mark.parametrize(
    "text, expected",
    [
        # the example: lower-cased, punctuation split off
        ("This phone is very fast!", ["this", "phone", "is", "very", "fast", "!"]),
        # PTB contractions, as the SST files spell them
        ("I don't like it.", ["i", "do", "n't", "like", "it", "."]),
        ("It's great, isn't it?", ["it", "'s", "great", ",", "is", "n't", "it", "?"]),
        ("can't won't", ["ca", "n't", "wo", "n't"]),
        (
            "we're they've you'll i'd i'm",
            ["we", "'re", "they", "'ve", "you", "'ll", "i", "'d", "i", "'m"],
        ),
        # inner hyphens and apostrophes stay, a trailing possessive apostrophe is split
        ("A coming-of-age tale at 5 o'clock", ["a", "coming-of-age", "tale", "at", "5", "o'clock"]),
        ("James' car", ["james", "'", "car"]),
        # quotes, ellipsis, dashes
        ('"Great" movie... -- really', ['"', "great", '"', "movie", "...", "--", "really"]),
        # numbers, acronyms, titles, decades
        ("3.5 stars, 1,000 times", ["3.5", "stars", ",", "1,000", "times"]),
        (
            "Mr. Smith in the U.S. in the '70s",
            ["mr.", "smith", "in", "the", "u.s.", "in", "the", "'70s"],
        ),
        # sentence-final period after a word is split
        ("The end.", ["the", "end", "."]),
        # unicode letters are word characters
        ("Clichés abound", ["clichés", "abound"]),
        # whitespace of any kind separates
        ("a\tb\n c", ["a", "b", "c"]),
    ],
)
def test_word_tokenize(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize(
    "line",
    [
        # real SST lines (stsa.fine.train), already PTB-tokenised: kept exactly
        "they presume their audience wo n't sit still for a sociology lesson , however "
        "entertainingly presented , so they trot out the conventional science-fiction elements",
        "a stirring , funny and finally transporting re-imagining of beauty and the beast",
        "-lrb- the film -rrb- is `` a bit '' of a mess ... it 's the '70s -- mr. smith 's u.s.",
        "a writer\\/director 's debut , the movie 're made",
    ],
)
def test_pretokenised_sst_text_is_kept(line):
    assert tokenize(line) == line.split()


@pytest.mark.parametrize(
    "text",
    ["I don't like it.", "It's \"great\"... isn't it?!", "Mr. Smith's U.S.-made film (1999)"],
)
def test_word_tokenize_is_stable(text):
    tokens = tokenize(text)
    assert tokenize(" ".join(tokens)) == tokens


def test_char_level_keeps_every_character():
    assert tokenize("Hi, you!", level="char") == ["H", "i", ",", " ", "y", "o", "u", "!"]
    assert tokenize(" a\n", level="char") == [" ", "a", "\n"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
@pytest.mark.parametrize("level", ["word", "char"])
def test_empty_text_is_an_error(text, level):
    with pytest.raises(ValueError, match="empty"):
        tokenize(text, level=level)


def test_bad_arguments():
    with pytest.raises(ValueError, match="level"):
        tokenize("hello", level="subword")
    with pytest.raises(TypeError):
        tokenize(["hello"])


@pytest.mark.data
def test_sst_files_tokenise_stably(data_root):
    lines = []
    for path in sorted((data_root / "sentiment" / "sst").glob("stsa.*")):
        lines += [line[2:].rstrip("\n") for line in path.open(encoding="utf-8")]
    assert len(lines) == 8544 + 1101 + 2210 + 6920 + 872 + 1821
    same = 0
    for line in lines:
        tokens = tokenize(line)
        assert tokenize(" ".join(tokens)) == tokens, line
        same += tokens == line.split()
    assert same / len(lines) > 0.99
