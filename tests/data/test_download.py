import hashlib
import io
import urllib.error

import pytest

from rnnlab.data import (
    ChecksumError,
    MissingDataError,
    RemoteFile,
    cache_dir,
    download,
    fetch,
    sha256_file,
)

PAYLOAD = b"1 a fine film .\n0 a dull one .\n" * 100
SHA = hashlib.sha256(PAYLOAD).hexdigest()
WRONG = "0" * 64


@pytest.fixture
def source(tmp_path):
    """A file served by a file:// URL."""
    path = tmp_path / "server" / "stsa.toy"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty cache and no mirror."""
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNLAB_DATA", raising=False)
    return tmp_path


def test_sha256_file(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(PAYLOAD)
    assert sha256_file(path) == SHA
    assert sha256_file(path) != hashlib.sha256(PAYLOAD[:-1]).hexdigest()


def test_download_file_url(source, tmp_path):
    dest = tmp_path / "out" / "sub" / "stsa.toy"
    assert download(source.as_uri(), dest, SHA, progress=False) == dest
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in dest.parent.iterdir()] == ["stsa.toy"]  # no temp file left


def test_download_checksum_mismatch_leaves_nothing(source, tmp_path):
    dest = tmp_path / "out" / "stsa.toy"
    with pytest.raises(ChecksumError, match=f"stsa.toy.*{WRONG}.*nothing was saved"):
        download(source.as_uri(), dest, WRONG, progress=False)
    assert list(dest.parent.iterdir()) == []


def test_download_failure_leaves_nothing(tmp_path):
    dest = tmp_path / "out" / "x"
    with pytest.raises(urllib.error.URLError):
        download((tmp_path / "absent").as_uri(), dest, SHA, progress=False)
    assert list(dest.parent.iterdir()) == []


class _FakeResponse(io.BytesIO):
    def __init__(self, payload, headers):
        super().__init__(payload)
        self.headers = headers


def test_download_through_a_patched_opener(monkeypatch, tmp_path, capsys):
    """The https path, without a network: urlopen is replaced by a fake server."""
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return _FakeResponse(PAYLOAD, {"Content-Length": str(len(PAYLOAD))})

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    dest = download("https://example.org/stsa.toy", tmp_path / "stsa.toy", SHA, progress=True)
    assert dest.read_bytes() == PAYLOAD
    assert calls == ["https://example.org/stsa.toy"]
    assert "stsa.toy" in capsys.readouterr().err  # the tqdm bar, on stderr


def test_fetch_downloads_then_uses_the_cache(source, env):
    file = RemoteFile("stsa.toy", (source.as_uri(),), SHA)
    path = fetch(file, "sentiment/toy", progress=False)
    assert path == cache_dir() / "sentiment" / "toy" / "stsa.toy"
    assert path.read_bytes() == PAYLOAD
    source.unlink()  # the server is gone: the cache must serve it now
    assert fetch(file, "sentiment/toy", progress=False) == path


def test_fetch_prefers_the_mirror(source, env, monkeypatch):
    mirror = env / "mirror"
    (mirror / "sentiment" / "toy").mkdir(parents=True)
    (mirror / "sentiment" / "toy" / "stsa.toy").write_bytes(PAYLOAD)
    monkeypatch.setenv("RNNLAB_DATA", str(mirror))
    file = RemoteFile("stsa.toy", ("https://unreachable.invalid/stsa.toy",), SHA)
    assert fetch(file, "sentiment/toy") == mirror / "sentiment" / "toy" / "stsa.toy"
    assert not cache_dir().exists()  # nothing downloaded


def test_fetch_falls_back_from_mirror_to_download(source, env, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(env / "empty_mirror"))
    file = RemoteFile("stsa.toy", (source.as_uri(),), SHA)
    assert fetch(file, "sentiment/toy", progress=False).parent == cache_dir() / "sentiment" / "toy"


def test_fetch_corrupt_mirror_file_is_an_error(env, monkeypatch):
    mirror = env / "mirror"
    (mirror / "s").mkdir(parents=True)
    (mirror / "s" / "stsa.toy").write_bytes(PAYLOAD[:-5])  # truncated
    monkeypatch.setenv("RNNLAB_DATA", str(mirror))
    file = RemoteFile("stsa.toy", ("https://example.org/stsa.toy",), SHA)
    with pytest.raises(ChecksumError, match=r"mirror/s/stsa\.toy has sha256 .* replace it"):
        fetch(file, "s")


def test_fetch_corrupt_cache_file_is_an_error(env):
    cached = cache_dir() / "s" / "stsa.toy"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"junk")
    file = RemoteFile("stsa.toy", ("https://example.org/stsa.toy",), SHA)
    with pytest.raises(ChecksumError, match="delete it"):
        fetch(file, "s")


def test_fetch_download_mismatch_is_an_error_and_caches_nothing(source, env):
    file = RemoteFile("stsa.toy", (source.as_uri(),), WRONG)
    with pytest.raises(ChecksumError, match="stsa.toy"):
        fetch(file, "s", progress=False)
    assert list((cache_dir() / "s").iterdir()) == []


def test_fetch_tries_urls_in_order(source, env):
    file = RemoteFile("stsa.toy", ((env / "gone").as_uri(), source.as_uri()), SHA)
    assert fetch(file, "s", progress=False).read_bytes() == PAYLOAD


def test_fetch_nothing_available_says_what_to_do(env, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    monkeypatch.setenv("RNNLAB_DATA", str(env / "mirror"))
    file = RemoteFile("stsa.toy", ("https://example.org/stsa.toy",), SHA)
    with pytest.raises(MissingDataError) as info:
        fetch(file, "sentiment/toy", progress=False)
    message = str(info.value)
    assert "stsa.toy" in message and "no network" in message and SHA in message
    assert str(env / "mirror" / "sentiment" / "toy") in message
    assert str(cache_dir() / "sentiment" / "toy") in message


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "a/b"}, "bare file name"),
        ({"urls": "https://x"}, "tuple"),
        ({"urls": ["https://x"]}, "tuple"),
        ({"mirror_repacks": ("f.tar", SHA)}, "pair"),
        ({"mirror_repacks": (("a/f.tar", SHA),)}, "bare file name"),
        ({"mirror_repacks": (("f.tar", "ABC"),)}, "64"),
        ({"mirror_repacks": (("f", SHA),)}, "repeat a file name"),
        ({"sha256": "ABC"}, "64"),
        ({"sha256": SHA.upper()}, "lower-case"),
    ],
)
def test_remote_file_validates(kwargs, match):
    args = {"name": "f", "urls": ("https://x",), "sha256": SHA, **kwargs}
    with pytest.raises(ValueError, match=match):
        RemoteFile(**args)


# ---- files only a mirror holds, and repacks a mirror may hold instead ------------------------

REPACK = b"the same reviews, packed again\n" * 50
REPACK_SHA = hashlib.sha256(REPACK).hexdigest()


@pytest.fixture
def mirror(env, monkeypatch):
    """An empty mirror folder sentiment/toy/ (and an empty cache); downloads are refused."""
    folder = env / "mirror" / "sentiment" / "toy"
    folder.mkdir(parents=True)
    monkeypatch.setenv("RNNLAB_DATA", str(env / "mirror"))

    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    return folder


def repacked(urls=("https://example.org/stsa.toy",)):
    return RemoteFile("stsa.toy", urls, SHA, mirror_repacks=(("toy.tar.gz", REPACK_SHA),))


def test_a_repack_is_accepted_from_the_mirror_under_its_own_name_and_sha(mirror):
    (mirror / "toy.tar.gz").write_bytes(REPACK)
    assert fetch(repacked(), "sentiment/toy") == mirror / "toy.tar.gz"
    assert not cache_dir().exists()


def test_the_upstream_name_in_the_mirror_comes_first(mirror):
    (mirror / "toy.tar.gz").write_bytes(REPACK)
    (mirror / "stsa.toy").write_bytes(PAYLOAD)
    assert fetch(repacked(), "sentiment/toy") == mirror / "stsa.toy"
    (mirror / "stsa.toy").write_bytes(PAYLOAD[:-1])  # a corrupt upstream file is an error,
    with pytest.raises(ChecksumError, match=r"stsa\.toy has sha256"):  # not a fall-through
        fetch(repacked(), "sentiment/toy")


def test_a_repack_with_a_wrong_sha_is_an_error_naming_it(mirror):
    (mirror / "toy.tar.gz").write_bytes(REPACK[:-1])
    with pytest.raises(ChecksumError, match=rf"toy\.tar\.gz has sha256 .* expected {REPACK_SHA}"):
        fetch(repacked(), "sentiment/toy")


def test_a_repack_is_accepted_from_the_mirror_only(mirror):
    # under the repack name in the cache: ignored
    cached = cache_dir() / "sentiment" / "toy" / "toy.tar.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(REPACK)
    with pytest.raises(MissingDataError) as info:
        fetch(repacked(), "sentiment/toy")
    message = str(info.value)
    assert "no network" in message and f"toy.tar.gz (sha256 {REPACK_SHA}) into {mirror}" in message
    # the repack's bytes under the upstream name (mirror or cache): the upstream sha256 applies
    (mirror / "stsa.toy").write_bytes(REPACK)
    with pytest.raises(ChecksumError, match=rf"stsa\.toy has sha256 {REPACK_SHA}"):
        fetch(repacked(), "sentiment/toy")
    (mirror / "stsa.toy").unlink()
    (cached.parent / "stsa.toy").write_bytes(REPACK)
    with pytest.raises(ChecksumError, match="delete it"):
        fetch(repacked(), "sentiment/toy")


def test_a_download_is_checked_against_the_upstream_sha_only(env, source, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(env / "empty_mirror"))
    source.write_bytes(REPACK)  # a server handing out the repack's bytes
    with pytest.raises(ChecksumError, match="nothing was saved"):
        fetch(repacked((source.as_uri(),)), "sentiment/toy", progress=False)
    source.write_bytes(PAYLOAD)
    path = fetch(repacked((source.as_uri(),)), "sentiment/toy", progress=False)
    assert path == cache_dir() / "sentiment" / "toy" / "stsa.toy"


def test_a_mirror_only_file_says_it_cannot_be_downloaded(mirror, monkeypatch):
    file = RemoteFile("train.txt.gz", (), SHA)
    with pytest.raises(MissingDataError) as info:
        fetch(file, "sentiment/toy")
    message = str(info.value)
    assert "train.txt.gz cannot be downloaded: only a data mirror holds it" in message
    assert f"{mirror}/train.txt.gz (sha256 {SHA})" in message
    monkeypatch.delenv("RNNLAB_DATA")
    with pytest.raises(MissingDataError, match=r"RNNLAB_DATA to a mirror with \$RNNLAB_DATA/"):
        fetch(file, "sentiment/toy")
    (mirror / "train.txt.gz").write_bytes(PAYLOAD)  # a mirror (or the cache) serves it
    monkeypatch.setenv("RNNLAB_DATA", str(mirror.parent.parent))
    assert fetch(file, "sentiment/toy") == mirror / "train.txt.gz"
    (mirror / "train.txt.gz").write_bytes(b"junk")
    with pytest.raises(ChecksumError, match="replace it with the data mirror's copy"):
        fetch(file, "sentiment/toy")
