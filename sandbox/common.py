"""Shared by the replicated sites: templates rendered with a client-side rendering delay."""
from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from .markup import Markup, pick
from .wording import word

TEMPLATES = Path(__file__).parent / "templates"
WORLD = web.AppKey("world", object)
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


def world_of(request: web.Request):
    return request.app[WORLD]


def render(request: web.Request, template: str, status: int = 200, headers=None, **context) -> web.Response:
    """Renders `template` (which extends base.html); its content appears only after a seeded delay, in the
    markup the options choose for this page (`mk`, see markup.py)."""
    world = world_of(request)
    mk = Markup(pick(world.options.markup, world.options.seed, request.path))
    wording = world.options.wording
    html = _env.get_template(template).render(delay=world.render_delay(), request=request, world=world, mk=mk,
                                              w=lambda plain: word(wording, plain), **context)
    return web.Response(text=html, status=status, content_type="text/html", headers=headers)


def new_app(world) -> web.Application:
    app = web.Application()
    app[WORLD] = world
    return app
