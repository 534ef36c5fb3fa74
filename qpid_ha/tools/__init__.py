"""Command-line tools in the style of Apache Qpid's: ``qpidd`` (the broker daemon) and, as
they land, ``qpid-ha``, ``qpid-config``, ``qpid-stat``, ``qpid-send`` and ``qpid-receive``.

Each tool is a module with ``main(argv=None) -> int``, runnable as ``python -m
qpid_ha.tools.<name>``; errors are one line on stderr and exit status 1.
"""
