"""The test suite in three layers: unit/, integration/ and system/ (see the README's Tests section)."""
