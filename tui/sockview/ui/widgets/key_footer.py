"""The footer with the key hints: Textual's Footer, rebuilt once however often keys change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's `Footer`, which rebuilds all its keys each time the bindings change.

    A rebuild costs some 30-50 ms of CPU, and at start-up the bindings change four times
    in a row (focus, screen, and the fetch that starts at once). Here the changes that
    come before the pending rebuild has run share that one rebuild, so the recv loop,
    which shares the GIL with the UI, is not slowed down by the footer.
    """

    _rebuild_pending = False

    compact_below = 100
    """Columns below which the keys are drawn compact, so that more of them fit."""
    palette_from = 130
    """Columns from which the palette's key is shown: it is docked on the right, over
    the last keys of a narrower footer (the help screen names it)."""

    def on_resize(self) -> None:
        self.compact = self.size.width < self.compact_below
        self.show_command_palette = self.size.width >= self.palette_from

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self._rebuild_pending:
            return
        super().bindings_changed(screen)
        # Mirrors the conditions under which Footer schedules its rebuild.
        self._rebuild_pending = bool(
            screen.app.app_focus and self.is_attached and screen is self.screen
        )

    async def recompose(self) -> None:
        self._rebuild_pending = False
        await super().recompose()
