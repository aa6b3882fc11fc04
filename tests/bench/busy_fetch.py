"""A fetch on a worker thread while the main thread runs Python non-stop (bench only).

    python tests/bench/busy_fetch.py URL keep|discard

Stands in for a UI thread that never rests, without a terminal: prints the fetch's own
`elapsed` (connect to the last byte). Run with and without SOCKVIEW_PURE_PYTHON=1 to see
what the GIL costs the recv loop.
"""

from __future__ import annotations

import os
import sys
import threading

from sockview.core.body import DiscardBody, SpooledBody
from sockview.core.events import Finished
from sockview.core.fetch import Fetch
from sockview.core.url import parse_url


def main() -> int:
    url, mode = sys.argv[1], sys.argv[2]
    if os.environ.get("SOCKVIEW_BENCH_SWITCH"):  # experiments: the GIL's switch interval
        sys.setswitchinterval(float(os.environ["SOCKVIEW_BENCH_SWITCH"]))
    body = SpooledBody() if mode == "keep" else DiscardBody()
    fetch = Fetch(parse_url(url), body=body)
    worker = threading.Thread(target=fetch.perform)
    worker.start()
    spins = 0
    while worker.is_alive():
        spins += sum(range(200)) > 0  # pure Python work, as a UI's layout and rendering are
    worker.join()
    body.close()
    if not isinstance(fetch.result, Finished):
        print(f"failed: {fetch.result}", file=sys.stderr)
        return 1
    print(f"{fetch.result.elapsed:.6f} {spins}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
