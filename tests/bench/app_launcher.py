"""Run the real app as `sockview ARGS...` does, noting when its fetch ends (bench only).

    python tests/bench/app_launcher.py RECORD ARGS...

The app is `create_app` from the command line's own settings, untouched; the launcher
only watches the messages that the fetch posts to it, and appends JSON lines to RECORD:
its pid at start, then the fetch's `Finished` (or `Failed`) figures when they are posted
(and with SOCKVIEW_BENCH_SIZES set, the histogram of its recv sizes after them).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter

from sockview.cli import build_parser, settings_from
from sockview.core.events import Connected, Failed, Finished
from sockview.ui.app import create_app
from sockview.ui.messages import FetchUpdate


def _note(path: str, **fields: object) -> None:
    with open(path, "a") as record:
        record.write(json.dumps(fields) + "\n")


def _cpu_seconds(tid: int) -> float:
    """CPU time (user + system) that thread `tid` of this process has used so far."""
    with open(f"/proc/self/task/{tid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    record, argv = sys.argv[1], sys.argv[2:]
    parser = build_parser()
    settings = settings_from(parser.parse_args(argv), parser)
    app = create_app(settings)
    post_message = app.post_message
    ui_thread = threading.get_native_id()

    def watching_post_message(message):  # type: ignore[no-untyped-def]
        event = getattr(message, "event", None)
        if isinstance(message, FetchUpdate) and isinstance(event, Connected):
            _note(record, connected=time.time(), ui_cpu=_cpu_seconds(ui_thread))
        if isinstance(message, FetchUpdate) and isinstance(event, Finished | Failed):
            _note(
                record,
                end=type(event).__name__,
                elapsed=event.elapsed,
                recvs=event.recv_count,
                total=event.total,
                at=time.time(),
                ui_cpu=_cpu_seconds(ui_thread),
                fetch_cpu=_cpu_seconds(threading.get_native_id()),
            )
            if os.environ.get("SOCKVIEW_BENCH_SIZES") and app.fetch is not None:
                _note(record, sizes=Counter(app.fetch.log.sizes))  # after the end: no cost
        return post_message(message)

    app.post_message = watching_post_message  # type: ignore[method-assign]
    if os.environ.get("SOCKVIEW_BENCH_REFRESH"):  # experiments: the app's redraw rate
        import sockview.ui.app

        sockview.ui.app.REFRESH_RATE = float(os.environ["SOCKVIEW_BENCH_REFRESH"])
    if os.environ.get("SOCKVIEW_BENCH_SWITCH"):  # experiments: the GIL's switch interval
        sys.setswitchinterval(float(os.environ["SOCKVIEW_BENCH_SWITCH"]))
    _note(record, pid=os.getpid(), at=time.time())
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
