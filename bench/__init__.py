"""Benchmarks for contact-gateway: `python -m bench` (see bench/README.md)."""

from __future__ import annotations

from bench.cli import main

__all__ = ["main"]
