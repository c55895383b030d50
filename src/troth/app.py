"""create_app(settings) -> FastAPI, with each domain's router mounted."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from troth import __version__
from troth.audit.logfilter import install_log_scrubbing
from troth.config import Settings
from troth.policy import routes as policy_routes
from troth.runtime import Runtime
from troth.security import api as security_api
from troth.security import pages as security_pages
from troth.web import api_docs, console, errors, health
from troth.web.security_headers import SecurityHeadersMiddleware
from troth.web.templating import STATIC_DIR


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    install_log_scrubbing()
    runtime = runtime or Runtime.start(settings)
    app = FastAPI(
        title="Troth",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=api_docs.OPENAPI_URL,
    )
    app.state.runtime = runtime
    app.add_middleware(SecurityHeadersMiddleware)
    errors.install(app)
    app.mount("/static/swagger", StaticFiles(directory=api_docs.SWAGGER_STATIC), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (health.router, api_docs.router, policy_routes.router, console.router):
        app.include_router(router)
    app.include_router(security_pages.router)
    app.include_router(security_api.router)
    return app
