"""The API application: `create_app(context)` gives a FastAPI app with the TMF621 routes and the task routes.

Other parts mount their routers on it (`create_app(context, routers=[hub_router])`, or
`app.include_router(router)` afterwards); their routes reach the engine through `api.context.context_of`
and check tokens with `api.security.require`, like the ticket routes.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI

from api.context import ApiContext
from api.errors import install_error_handlers
from api.hub import dead_letter_router
from api.hub import router as hub_router
from api.remediation import router as remediation_router
from api.tasks import router as task_router
from api.tickets import BASE_PATH
from api.tickets import router as ticket_router
from console import console_router

TITLE = "Complaint engine: TMF621 Trouble Ticket"
VERSION = "5.0.1"


def create_app(context: ApiContext, *, routers: Iterable[APIRouter] = ()) -> FastAPI:
    """The application over `context`, with `routers` mounted beside the ticket routes."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=(
            "TMF621 Trouble Ticket v5 over the complaint engine: file, list, follow and close complaints. "
            "Every call needs a bearer token (`starter login`, or the deployment's OIDC provider). "
            "The engine's own acts (answer, approve or refuse an adjustment, reassign, resolve, reopen) are "
            "task endpoints under the ticket. A batch's remediation campaign (plan, start, status, pause, "
            "resume) is a task resource of our own under /remediation/v1."
        ),
        servers=[{"url": "/", "description": "this engine"}],
    )
    app.state.context = context
    install_error_handlers(app)
    app.include_router(ticket_router, prefix=BASE_PATH)
    app.include_router(task_router, prefix=BASE_PATH)
    app.include_router(console_router())
    app.include_router(hub_router, prefix=BASE_PATH)
    app.include_router(dead_letter_router)
    app.include_router(remediation_router)
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """For load balancers and compose healthchecks: the process answers (no case data)."""
        return {"status": "ok"}

    return app
