"""The sandbox app: all five emulators on one server, each under `/<key>`.

sandbox = Sandbox(seed=0)           # or Sandbox(seed=None) for empty stores
app = sandbox.app                   # mount in-process or run under uvicorn
sandbox.emulators["adaptix"]        # reach one emulator's controls and stats
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from sandbox.adaptix import AdaptixEmulator
from sandbox.akita import AkitaEmulator
from sandbox.credentials import describe
from sandbox.emulator import Emulator
from sandbox.interakt import InteraktEmulator
from sandbox.lunarsend import LunarSendEmulator
from sandbox.seed import SeedData, generate
from sandbox.trustmary import TrustmaryEmulator

EMULATORS: tuple[type[Emulator], ...] = (
    AkitaEmulator,
    InteraktEmulator,
    TrustmaryEmulator,
    AdaptixEmulator,
    LunarSendEmulator,
)


class Sandbox:
    """Five emulators with in-memory state, seeded deterministically.

    Args:
        seed: the seed for the data set and for injected faults; None leaves
            every store empty.
    """

    def __init__(self, *, seed: int | None = 0) -> None:
        rng_seed = seed or 0
        self.emulators: dict[str, Emulator] = {cls.key: cls(rng_seed=rng_seed) for cls in EMULATORS}
        self.data: SeedData | None = None
        if seed is not None:
            self.data = generate(seed)
            for emulator in self.emulators.values():
                emulator.load_seed(self.data)
        self.app = Starlette(
            routes=[
                Route("/", self._index, methods=["GET"]),
                Route("/_sandbox/stats", self._stats, methods=["GET"]),
                Route("/_sandbox/reset", self._reset, methods=["POST"]),
                *(Mount(f"/{key}", app=emulator.app()) for key, emulator in self.emulators.items()),
            ]
        )

    def reset_stats(self) -> None:
        for emulator in self.emulators.values():
            emulator.reset_stats()

    async def _index(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        creds = describe()
        return JSONResponse(
            {
                key: {"base_url": f"{base}/{key}{emulator.root}", **creds[key]}
                for key, emulator in self.emulators.items()
            }
        )

    async def _stats(self, request: Request) -> Response:
        return JSONResponse({k: e.stats.as_dict() for k, e in self.emulators.items()})

    async def _reset(self, request: Request) -> Response:
        self.reset_stats()
        return JSONResponse({"reset": True})
