"""`python -m sockview.demo`: the demo server on its own, for curl or the book's script."""

from sockview.core.demo import main

if __name__ == "__main__":
    raise SystemExit(main())
