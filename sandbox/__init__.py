"""Emulators of the five provider APIs, for tests, benchmarks and first runs.

Each emulator is written from the provider's documentation and
`shared/providers/NOTES.md`; nothing here imports `connectors`.
"""
