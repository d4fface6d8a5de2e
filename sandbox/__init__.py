"""Emulators of the five provider APIs, for tests, benchmarks and first runs.

Each emulator is written from the provider's documentation and
`docs/providers/`; nothing here imports `connectors`.
"""
