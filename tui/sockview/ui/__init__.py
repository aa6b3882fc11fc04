"""The Textual app. The core (`sockview.core`) knows nothing of this package."""
