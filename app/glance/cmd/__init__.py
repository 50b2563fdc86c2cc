"""Entry points of the console commands (see setup.py)."""
