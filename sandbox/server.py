"""Runs every replicated site on its own loopback port, in a background thread with its own loop."""
from __future__ import annotations

import asyncio
import importlib
import socket
import threading

from aiohttp import web

from . import faults
from .tls import Certificate
from .world import SandboxOptions, World

SITES = {
    "login": "sandbox.microsoft",   # login.microsoftonline.com
    "aex": "sandbox.ado_profile",   # aex.dev.azure.com / app.vsaex.visualstudio.com
    "vssps": "sandbox.ado_oauth",   # app.vssps.visualstudio.com
    "tfc": "sandbox.tfc",           # app.terraform.io (UI and /api/v2)
    "hcp": "sandbox.hcp",           # HCP's sign-in (portal.cloud.hashicorp.com), for HCP-linked TFC accounts
    "entra": "sandbox.entra",       # the Microsoft Entra admin center (entra.microsoft.com)
    "graph": "sandbox.graph",       # Microsoft Graph (graph.microsoft.com), HTTPS
    "authority": "sandbox.authority",  # login.microsoftonline.com for programs (azure-identity), HTTPS
}
TLS_SITES = ("graph", "authority")  # their clients (requests, azure-identity) speak only HTTPS


class Sandbox:
    """`with Sandbox() as sb:` serves all sites; `sb.env()` gives the robot's settings for it."""

    def __init__(self, options: SandboxOptions | None = None, ports: dict[str, int] | None = None):
        self.world = World(options)
        self.ports = ports or {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._certificate: Certificate | None = None

    def start(self) -> Sandbox:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sandbox", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start_sites(), self._loop).result(timeout=30)
        return self

    async def _start_sites(self) -> None:
        host = self.world.options.host
        self._certificate = Certificate(host)
        self.world.ca_file = self._certificate.ca_file
        sockets = {}
        for key in SITES:  # bind first, so every site knows every other's URL
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, self.ports.get(key, 0)))
            sockets[key] = sock
            scheme = "https" if key in TLS_SITES else "http"
            self.world.urls[key] = f"{scheme}://{host}:{sock.getsockname()[1]}"
        for key, module in SITES.items():
            app = importlib.import_module(module).create_app(self.world)
            faults.install(app, self.world, key)  # the fault plan, outermost
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            tls = self._certificate.context if key in TLS_SITES else None
            await web.SockSite(runner, sockets[key], ssl_context=tls).start()
            self._runners.append(runner)

    def stop(self) -> None:
        if not self._loop:
            return
        async def cleanup():
            for runner in self._runners:
                await runner.cleanup()
        asyncio.run_coroutine_threadsafe(cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None  # started together with the loop
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None
        if self._certificate:
            self._certificate.remove()

    def env(self) -> dict[str, str]:
        return self.world.env()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
