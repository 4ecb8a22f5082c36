"""The ``portflare`` command line."""
