"""The command palette (Ctrl+P): every action of the app, read from its bindings, and
the settings (`setting_commands`).

The actions come from the app's `BINDINGS` when the palette opens, so a key added there
is a command too, with no edit here. An action that does not apply now (Cancel with no
fetch running) is left out, as the footer dims it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from sockview.core.request import METHODS, RequestStyle
from sockview.settings import STYLE_WORDS

if TYPE_CHECKING:
    from sockview.ui.app import SockviewApp


class ActionsProvider(Provider):
    """The app's actions (one command per action, named by its binding) and settings."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: SockviewApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, str, Callable[[], object]]] = []
        seen: set[str] = set()
        for binding in Binding.make_bindings(type(app).BINDINGS):
            action = binding.action
            if action in seen or binding.system or not binding.description:
                continue
            seen.add(action)
            # `replay_speed(2)`: the check takes the name, as Textual calls it.
            if app.check_action(action.split("(", 1)[0], ()) is not True:
                continue
            keys = app.get_key_display(binding)
            help_text = f"{binding.tooltip or binding.description}  (key: {keys})"
            commands.append((binding.description, help_text, partial(app.run_action, action)))
        commands += setting_commands(app)
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)


def setting_commands(app: SockviewApp) -> list[tuple[str, str, Callable[[], object]]]:
    """The palette's commands for the settings: (name, help, what it does)."""
    options = app.options
    commands: list[tuple[str, str, Callable[[], object]]] = []
    for style, words in STYLE_WORDS.items():
        if style is not options.style and not (
            style is RequestStyle.BOOK and options.method != "GET"
        ):
            commands.append(
                (
                    f"Request: {words}",
                    "Send this request from the next fetch on",
                    partial(app.change_options, style=style),
                )
            )
    for method in METHODS:
        if method != options.method and options.style is not RequestStyle.BOOK:
            commands.append(
                (
                    f"Method: {method}",
                    "Use this method from the next fetch on",
                    partial(app.change_options, method=method),
                )
            )
    commands.append(
        (
            "TLS: verify certificates" if options.insecure else "TLS: do not verify certificates",
            "From the next fetch on (not verifying is unsafe)",
            partial(app.change_options, insecure=not options.insecure),
        )
    )
    return commands
