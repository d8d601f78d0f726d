"""The ``demo`` command: serve the teaching demo's page (``demo/app.py``) with Solara."""

from __future__ import annotations

import subprocess
import sys


def serve(host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve the page with Solara (blocks until interrupted)."""
    command = [
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
    print(f"Demo on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def serve_command(args) -> int:
    import solara  # noqa: F401  (a clear message from the command line if the extra is missing)

    return serve(args.host, args.port)
