"""Layer 7: the ``nocert-rules`` command line (thin: parse, call, print); entry point ``cli.main:main``."""
