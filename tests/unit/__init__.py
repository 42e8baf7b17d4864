"""Pure Python: no JVM, no mirror, no luigi subprocess, no listening socket (tests/unit/conftest.py)."""
