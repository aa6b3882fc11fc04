"""The core must not load textual or rich: it also drives plain mode and the tests."""

from __future__ import annotations

import subprocess
import sys


def test_core_and_plain_mode_do_not_import_textual() -> None:
    code = (
        "import sys, sockview.core.fetch, sockview.core.demo, sockview.core.save, sockview.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
