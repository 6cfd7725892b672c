"""teachwhy: a rebuild-from-scratch reproduction of *Teaching Claude Why*."""

__version__ = "0.1.0"
