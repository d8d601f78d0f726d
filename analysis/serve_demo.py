"""The ``demo`` command: serve the teaching demo's page (``demo/app.py``) with Solara.

The page runs in a Solara server of its own (a child process). Ctrl-C or SIGTERM to the command
stops that server too, so the port is free again at once.
"""

from __future__ import annotations

import signal
import subprocess
import sys

STOP_SECONDS = 10  # how long the server has to stop before it is killed


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
