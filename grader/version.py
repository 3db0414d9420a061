"""The package version, apart from ``grader/__init__`` so web modules can show it without
importing the app factory's package (no import circle)."""

__version__ = "0.1.0"
