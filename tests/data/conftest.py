import hashlib

import pytest

from rnnlab.data import RemoteFile


@pytest.fixture
def remote(tmp_path, monkeypatch):
    """A text file served from a file:// URL, with an empty mirror and cache.

    Returns the registered file, its text, and the folder holding ``server``, ``mirror`` and
    ``cache``.
    """
    text = "To be, or not to be\n"
    server = tmp_path / "server" / "play.txt"
    server.parent.mkdir()
    server.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode()).hexdigest()
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    return RemoteFile("play.txt", (server.as_uri(),), sha), text, tmp_path
