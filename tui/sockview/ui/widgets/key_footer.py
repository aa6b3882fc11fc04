"""The footer with the key hints: Textual's Footer, rebuilt once however often keys change."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """Textual's `Footer`, which rebuilds all its keys each time the bindings change.

    A rebuild costs some 30-50 ms of CPU, and at start-up the bindings change four times
    in a row (focus, screen, and the fetch that starts at once). Here the changes that
    come before the pending rebuild has run share that one rebuild, so the recv loop,
    which shares the GIL with the UI, is not slowed down by the footer. A hidden footer
    does not rebuild, nor one whose keys are the same as those it shows.
    """

    _rebuild_pending = False
    _shown: Hashable = None
    """What the keys shown were made from."""

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

    def _keys(self) -> Hashable:
        """What the footer's keys are made from, as Footer.compose reads it."""
        return (
            self.show_command_palette,
            tuple(
                (binding.key, binding.action, binding.description, enabled, tooltip)
                for _, binding, enabled, tooltip in self.screen.active_bindings.values()
                if binding.show
            ),
        )

    async def recompose(self) -> None:
        self._rebuild_pending = False
        if not self.display:
            return  # the inspector shows its own keys; these are made when shown again
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await super().recompose()


class FixedFooter(KeyFooter):
    """A footer of the keys `bindings`, made once: for a view whose keys never change.

    The inspector shows one in place of the app's footer, so that opening it does not
    rebuild a footer (a rebuild was most of its 70 ms from key to screen; bench goal 13).
    """

    def __init__(self, bindings: Sequence[Binding], *, id: str | None = None) -> None:
        super().__init__(id=id, show_command_palette=False)
        self.bindings = list(bindings)

    def compose(self) -> ComposeResult:
        self.styles.grid_size_columns = len(self.bindings)
        for binding in self.bindings:
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                tooltip=binding.tooltip,
            ).data_bind(compact=Footer.compact)

    async def recompose(self) -> None:
        """Its keys do not change."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Its keys do not change."""
