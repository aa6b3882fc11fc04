"""The footer with the key hints: Textual's Footer, rebuilt once however often keys change."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

Keys = tuple[bool, tuple[tuple[str, str, str, bool, str], ...]]
"""What a footer's keys are made from: the palette shown, each key's key, action,
description, whether it is enabled, and its tooltip."""


class KeyFooter(Footer):
    """Textual's `Footer`, which rebuilds all its keys each time the bindings change.

    A rebuild costs some 30-50 ms of CPU, and at start-up the bindings change four times
    in a row (focus, screen, and the fetch that starts at once). Here the changes that
    come before the pending rebuild has run share that one rebuild, so the recv loop,
    which shares the GIL with the UI, is not slowed down by the footer. A hidden footer
    does not rebuild, nor one whose keys are the same as those it shows; where only which
    keys are enabled changed (each fetch's states do that), they are marked in place.
    """

    _rebuild_pending = False
    _shown: Keys | None = None
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

    def _keys(self) -> Keys:
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
        same_keys = self._shown is not None and _shape(keys) == _shape(self._shown)
        self._shown = keys
        if same_keys:
            self._enable_in_place()
        else:
            await super().recompose()

    def _enable_in_place(self) -> None:
        """Only which keys are enabled (or their tooltips) changed: mark them in place.

        A fetch changes that at each state (connecting, receiving, done), and a rebuild
        costs the UI thread 30 to 50 ms, most of a short fetch's time on 2 cores.
        Footer.compose gives each action the state of its first binding; so does this.
        """
        states: dict[str, tuple[bool, str]] = {}
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            states.setdefault(binding.action, (enabled, tooltip))
        for key in self.query(FooterKey):
            enabled, tooltip = states.get(key.action, (not key._disabled, ""))
            # What FooterKey.__init__ does with `disabled` (its click reads `_disabled`).
            key._disabled = not enabled
            key.set_class(not enabled, "-disabled")
            if tooltip and "-grouped" not in key.classes:
                key.tooltip = tooltip


def _shape(keys: Keys) -> Hashable:
    """The keys shown, without whether each is enabled or its tooltip."""
    palette, bindings = keys
    return palette, tuple((key, action, description) for key, action, description, _, _ in bindings)


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
