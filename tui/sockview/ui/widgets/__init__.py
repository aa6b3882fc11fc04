"""The app's widgets, one a module, each named for what it shows."""
