"""Placeholder: filled in by the sandbox work of issue 12."""
from __future__ import annotations

from aiohttp import web


def create_app(world) -> web.Application:
    return web.Application()
