"""`EmbeddedWarehouse`: the pieces wired together, with the two ways in.

The same application serves both ways: `transport()` for in-process use (the real httpx client
code path, no ports) and `asgi_app()` for `warehouse serve` under uvicorn. Data lives under
`<home>/warehouse/`: the credentials, and one DuckDB file per catalog under `catalogs/`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from starlette.applications import Starlette

from core.embedded.app import ApiContext, build_app
from core.embedded.auth import Credentials
from core.embedded.engine import Engine
from core.embedded.faults import FaultProfile
from core.embedded.identity import DEFAULT_WAREHOUSE_ID, IN_PROCESS_BASE_URL
from core.embedded.results import DEFAULT_CHUNK_BYTES, ResultSet
from core.embedded.statements import StatementStore, WarehouseStartup
from core.embedded.translate import Parameter, plan
from core.embedded.transport import InProcessTransport

__all__ = ["DEFAULT_WAREHOUSE_ID", "IN_PROCESS_BASE_URL", "EmbeddedWarehouse"]


_open_dirs: set[Path] = set()
_open_lock = threading.Lock()


class EmbeddedWarehouse:
    """A Databricks SQL warehouse, faithful on the wire, running on DuckDB in this process.

    One instance per data folder per process: DuckDB's file locks do not protect a file opened
    twice by the same process, so a second instance on the same home is refused until the first
    is closed with `aclose()`.
    """

    def __init__(
        self,
        home: Path,
        *,
        faults: FaultProfile | None = None,
        warehouse_id: str = DEFAULT_WAREHOUSE_ID,
        result_ttl_s: float = 3600.0,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        self.home = Path(home)
        self.data_dir = self.home / "warehouse"
        self.warehouse_id = warehouse_id
        self.faults = faults or FaultProfile()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = self.data_dir.resolve()
        with _open_lock:
            if key in _open_dirs:
                raise RuntimeError(
                    "an embedded warehouse is already open on this data folder in this process; "
                    "close it with aclose() first"
                )
            _open_dirs.add(key)
        self._key = key
        try:
            credentials = Credentials(self.data_dir)
            self.token: str = credentials.token
            self.oauth_client_id: str = credentials.client_id
            self.oauth_client_secret: str = credentials.client_secret
            self._engine = Engine(self.data_dir / "catalogs", chunk_bytes=chunk_bytes)
        except BaseException:
            self._release()
            raise
        self._startup = WarehouseStartup(self.faults.cold_start_s)
        self._store = StatementStore(
            self._engine, self._startup, self.faults, result_ttl_s=result_ttl_s
        )
        self._app = build_app(
            ApiContext(
                warehouse_id=warehouse_id,
                credentials=credentials,
                store=self._store,
                startup=self._startup,
                faults=self.faults,
            )
        )
        self._app.router.redirect_slashes = False
        self._closed = False

    def asgi_app(self) -> Starlette:
        """The ASGI application (the same object every time)."""
        return self._app

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process httpx transport; use with `base_url=IN_PROCESS_BASE_URL`."""
        return InProcessTransport(self._app)

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        """An httpx client already pointed at this warehouse, with its bearer token."""
        return httpx.AsyncClient(
            transport=self.transport(),
            base_url=IN_PROCESS_BASE_URL,
            headers={"Authorization": f"Bearer {self.token}"},
            **kwargs,  # type: ignore[arg-type]
        )

    def run_sql(
        self,
        statement: str,
        *,
        catalog: str | None = None,
        schema: str | None = None,
        parameters: tuple[Parameter, ...] = (),
    ) -> ResultSet:
        """Run Databricks SQL directly (blocking, no HTTP), for test setup and inspection.

        Raises `StatementError` when the statement fails. Protocol behaviour must be checked
        through the HTTP API, not with this.
        """
        statement_plan = plan(statement, catalog=catalog, schema=schema, parameters=parameters)
        return self._engine.run(statement_plan, {p.name: p for p in parameters})

    async def aclose(self) -> None:
        """Cancel running statements, wait for their workers, close DuckDB. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._store.aclose()
            self._engine.close()
        finally:
            self._release()

    def _release(self) -> None:
        with _open_lock:
            _open_dirs.discard(self._key)
