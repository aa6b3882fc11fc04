"""sockview: watch every recv() of an HTTP fetch over a raw TCP socket."""

__version__ = "0.1.0"
