"""The ``demo`` command: serve the teaching demo's page (``demo/app.py``) with Solara.

The page runs in a Solara server of its own (a child process). Ctrl-C or SIGTERM to the command
stops that server too, so the port is free again at once.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

STOP_SECONDS = 10  # how long the server has to stop before it is killed
# Debian's Chromium driven headless in a container (the browser tests, the demo's scripts): no
# sandbox or GPU there, and nothing fetched in the background.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def solara_command(host: str, port: int) -> list[str]:
    """The command that serves the page."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "demo.app",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
    ]


@contextlib.contextmanager
def served_quietly(within: float = 120) -> Iterator[str]:
    """The page served on a free local port, its server's output discarded: yields the page's
    URL once it answers (RuntimeError if not ``within`` seconds), and stops the server after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        solara_command("127.0.0.1", port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + within
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    message = f"the demo server did not answer within {within:g} s"
                    raise RuntimeError(message) from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=STOP_SECONDS)


def serve(host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve the page until Ctrl-C or SIGTERM, then stop the server and return 0."""
    print(f"Demo on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    server = subprocess.Popen(solara_command(host, port))

    def terminated(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def serve_command(args) -> int:
    import solara  # noqa: F401  (a clear message from the command line if the extra is missing)

    return serve(args.host, args.port)
