"""The fetch engine: URL, request bytes, recv loop, parsing, body storage, saving, demo server.

Design rule: nothing in this package imports textual or rich. It reports what happens as
plain frozen dataclasses (see `events`), so the same core drives the app, plain mode and
the tests.
"""
