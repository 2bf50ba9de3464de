"""The first-run download of MNIST into Keras' cache, against a real HTTP server on loopback that the URL is pointed
at with CNNGRADE_MNIST_URL (the setting users point at a mirror): the verified file lands in the cache; a truncated,
altered, missing or cut-off file is refused and leaves nothing behind, not even a .part; so does Ctrl-C mid-way;
a terminal gets a live progress bar, anything else one plain line. Keras' real cache is never touched."""
from __future__ import annotations

import http.server
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from grader.data import resolve_mnist
from grader.errors import DataError


@dataclass
class Mirror:
    url: str
    requests: list[str] = field(default_factory=list)
    stall: threading.Event = field(default_factory=threading.Event)


def _altered(content: bytes) -> bytes:
    """A well-formed mnist.npz whose y_test differs by one label: the zip is fine, the array hash is not."""
    with np.load(io.BytesIO(content)) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["y_test"] = arrays["y_test"].copy()
    arrays["y_test"][0] = (arrays["y_test"][0] + 1) % 10
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.fixture
def mirror(tmp_path: Path, mnist_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    """A real HTTP server on 127.0.0.1 serving a copy of the real mnist.npz and broken variants of it; Keras' cache
    pointed at tmp_path (KERAS_HOME) and no other MNIST source configured."""
    copy = tmp_path / "served" / "mnist.npz"
    copy.parent.mkdir()
    copy.write_bytes(mnist_path.read_bytes())
    content = copy.read_bytes()
    state = Mirror(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _head(self, length: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def do_GET(self) -> None:  # the base class's name
            state.requests.append(self.path)
            if self.path == "/mnist.npz":
                self._head(len(content))
                self.wfile.write(content)
            elif self.path == "/slow/mnist.npz":  # about half a second, so a terminal sees the bar move
                self._head(len(content))
                for start in range(0, len(content), 1 << 20):
                    self.wfile.write(content[start:start + (1 << 20)])
                    self.wfile.flush()
                    time.sleep(0.05)
            elif self.path == "/truncated/mnist.npz":  # a truncated file, served faithfully (length and all)
                half = content[: len(content) // 2]
                self._head(len(half))
                self.wfile.write(half)
            elif self.path == "/altered/mnist.npz":
                altered = _altered(content)
                self._head(len(altered))
                self.wfile.write(altered)
            elif self.path in ("/drop/mnist.npz", "/stall/mnist.npz"):  # announces it all, sends half, then...
                self._head(len(content))
                self.wfile.write(content[: len(content) // 2])
                self.wfile.flush()
                if self.path.startswith("/stall"):
                    state.stall.wait(60)  # ...hangs (until the test lets it go)
                self.close_connection = True  # ...or drops the connection mid-body
            else:
                self.send_error(404, "File not found")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.delenv("CNNGRADE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    try:
        yield state
    finally:
        state.stall.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _cache(tmp_path: Path) -> Path:
    return tmp_path / "keras" / "datasets"


def _left(tmp_path: Path) -> list[str]:
    """Everything in Keras' cache folder, hidden .part files included."""
    cache = _cache(tmp_path)
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_lands_verified_in_keras_cache(mirror: Mirror, tmp_path: Path, mnist_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CNNGRADE_MNIST_URL", f"{mirror.url}/mnist.npz")
    target = _cache(tmp_path) / "mnist.npz"
    assert resolve_mnist() == target.resolve()
    assert target.read_bytes() == mnist_path.read_bytes()
    assert _left(tmp_path) == ["mnist.npz"]  # no .part beside it
    assert mirror.requests == ["/mnist.npz"]
    err = capfd.readouterr().err
    # Not a terminal: one plain line saying what is fetched from where, no bar and no carriage returns.
    assert err == f"cnngrade: downloading MNIST (11.5 MB) from {mirror.url}/mnist.npz into {_cache(tmp_path)}\n"
    assert resolve_mnist() == target.resolve() and resolve_mnist(download=False) == target.resolve()
    assert mirror.requests == ["/mnist.npz"]  # the cache serves every later run
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()  # Keras' cache is shared: the umask's mode


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("route, says", [
    ("truncated", "the file downloaded from {url} is not a readable .npz MNIST file"),
    ("altered", "the file downloaded from {url}: array y_test differs from the canonical MNIST (sha256 mismatch)"),
    ("missing", "downloading it from {url} failed (HTTP Error 404: File not found); nothing was kept"),
    ("drop", ("the download from {url} stopped after 5745259 of 11490519 bytes (the connection was closed); "
              "nothing was kept")),
])
def test_bad_downloads_are_refused_and_leave_nothing(mirror: Mirror, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, route: str, says: str) -> None:
    url = f"{mirror.url}/{route}/mnist.npz"
    monkeypatch.setenv("CNNGRADE_MNIST_URL", url)
    with pytest.raises(DataError) as err:
        resolve_mnist()
    message = str(err.value)
    assert says.format(url=url) in message, message
    if route in ("truncated", "altered"):  # verified before the rename: never written under the real name
        assert f"It was refused and deleted: nothing was written to {_cache(tmp_path) / 'mnist.npz'}" in message
    assert "CNNGRADE_MNIST_URL=URL downloads from a mirror" in message  # how to provide it otherwise
    assert _left(tmp_path) == []  # no mnist.npz, no .part
    with pytest.raises(DataError, match="not found in Keras' cache"):
        resolve_mnist(download=False)  # a later run trusts nothing


def test_offline_is_a_clear_message(mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNGRADE_MNIST_URL", "http://127.0.0.1:9/mnist.npz")  # nothing listens on port 9
    with pytest.raises(DataError) as err:
        resolve_mnist()
    message = str(err.value)
    assert message.startswith("MNIST is not on this machine and downloading it from http://127.0.0.1:9/mnist.npz "
                              "failed ([Errno 111] Connection refused); nothing was kept.")
    assert "--data PATH" in message and "CNNGRADE_DATA=PATH" in message
    assert _left(tmp_path) == []


def test_unusable_mirror_setting_is_named(mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNGRADE_MNIST_URL", "mirror.example/mnist.npz")  # no scheme
    with pytest.raises(DataError, match="CNNGRADE_MNIST_URL must be an http://, https:// or file:// URL"):
        resolve_mnist()
    assert _left(tmp_path) == []


def test_file_url_mirror(mirror: Mirror, tmp_path: Path, mnist_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNGRADE_MNIST_URL", (tmp_path / "served" / "mnist.npz").as_uri())  # a shared file system
    assert resolve_mnist().read_bytes() == mnist_path.read_bytes()
    assert _left(tmp_path) == ["mnist.npz"]


def test_stale_part_from_a_hard_kill_is_swept(mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _cache(tmp_path)
    cache.mkdir(parents=True)
    stale, fresh = cache / ".mnist.npz.0123456789ab.part", cache / ".mnist.npz.ba9876543210.part"
    stale.write_bytes(b"PK half a file")
    fresh.write_bytes(b"PK another download, still running")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    monkeypatch.setenv("CNNGRADE_MNIST_URL", f"{mirror.url}/mnist.npz")
    resolve_mnist()
    assert _left(tmp_path) == [fresh.name, "mnist.npz"]  # the live one's download is its own business


def _child_env(tmp_path: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CNNGRADE_DATA", "PYTHONPATH")}
    return {**env, "PYTHONPATH": str(ROOT), "KERAS_HOME": str(tmp_path / "keras"), "CNNGRADE_MNIST_URL": url}


def test_progress_bar_on_a_terminal(mirror: Mirror, tmp_path: Path) -> None:
    """stderr on a real pseudo-terminal: the bar moves (carriage returns), with bytes and rate, and ends its line."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "from grader.data import resolve_mnist; print(resolve_mnist())"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env=_child_env(tmp_path, f"{mirror.url}/slow/mnist.npz"))
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, seen
    assert stdout.decode().strip() == str((_cache(tmp_path) / "mnist.npz").resolve())
    screen = seen.decode()
    assert screen.startswith(f"cnngrade: downloading MNIST (11.5 MB) from {mirror.url}/slow/mnist.npz into ")
    draws = screen.split("\r  [")[1:]
    assert len(draws) >= 2, screen  # a live bar, redrawn as bytes arrive
    assert draws[-1].startswith("########################] 11.5 MB/11.5 MB  ") and " MB/s" in draws[-1], screen
    assert screen.endswith("\r\n")  # the terminal's newline: the next output starts on its own line


def test_ctrl_c_mid_download_leaves_nothing(mirror: Mirror, tmp_path: Path) -> None:
    """SIGINT while the body is arriving: the .part is removed, nothing is at the target, a later run trusts
    nothing."""
    proc = subprocess.Popen([sys.executable, "-c", "from grader.data import resolve_mnist; resolve_mnist()"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_child_env(tmp_path, f"{mirror.url}/stall/mnist.npz"))
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in _cache(tmp_path).glob(".mnist.npz.*.part")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        mirror.stall.set()
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    assert _left(tmp_path) == []


def test_a_damaged_copy_in_the_cache_says_how_to_replace_it(mirror: Mirror, tmp_path: Path, mnist_path: Path) -> None:
    _cache(tmp_path).mkdir(parents=True)
    (_cache(tmp_path) / "mnist.npz").write_bytes(mnist_path.read_bytes()[:1_000_000])  # another tool's cut download
    with pytest.raises(DataError) as err:
        resolve_mnist()
    assert f"delete {_cache(tmp_path) / 'mnist.npz'} and run again" in str(err.value)
