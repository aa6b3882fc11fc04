"""The key footer: keys that a fetch enables and disables are marked in place."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from sockview.ui.app import create_app
from sockview.ui.widgets.key_footer import KeyFooter

from .conftest import make_settings, wait_for


async def test_a_fetch_enables_and_disables_its_keys_without_a_rebuild(
    demo, tmp_path, monkeypatch
) -> None:
    # With the delay on, the demo's cover takes some 3 s: long enough to see it running.
    app = create_app(make_settings(demo.url("/cover.png"), delay_on=True))
    async with app.run_test(size=(160, 30)) as pilot:
        footer = app.query_one("#keys", KeyFooter)

        def key_for(action: str) -> FooterKey | None:
            keys = [key for key in footer.query(FooterKey) if key.action == action]
            return keys[0] if keys else None

        def cancel_is(enabled: bool) -> bool:
            key = key_for("cancel")
            return key is not None and key.has_class("-disabled") is not enabled

        await wait_for(pilot, lambda: app.fetch_state.running and cancel_is(True), "running")
        shown = list(footer.query(FooterKey))
        await pilot.press("c")
        await wait_for(pilot, lambda: not app.fetch_state.running, "the cancel")
        await wait_for(pilot, lambda: cancel_is(False), "Cancel disabled")
        assert list(footer.query(FooterKey)) == shown  # the same widgets: no rebuild
        # A key made disabled (recording, during the fetch), enabled since: a click on it
        # presses it, where a disabled key only rings the bell.
        monkeypatch.chdir(tmp_path)
        record = key_for("record")
        assert record is not None and not record.has_class("-disabled")
        await pilot.click(record)
        await wait_for(pilot, lambda: any(tmp_path.iterdir()), "the run file")
        await pilot.press("r")
        await wait_for(pilot, lambda: cancel_is(True), "Cancel enabled again")
        assert list(footer.query(FooterKey)) == shown
