"""One staging transform per source: its validated raw frames -> the platform-neutral frames of
``schemas/staging.py``, which the shared fact builders read."""
