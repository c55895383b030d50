"""create_app(settings) -> FastAPI, with each domain's router mounted."""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from troth import __version__
from troth.analytics import pages as analytics_pages
from troth.analytics import routes as analytics_routes
from troth.audit.logfilter import install_log_scrubbing
from troth.collect import identify_routes
from troth.collect.endpoint import CollectEndpoint
from troth.collect.forwarded import TrustedProxies
from troth.collect.scripts import routes as script_routes
from troth.config import Settings
from troth.consent import pages as consent_pages
from troth.consent import routes as consent_routes
from troth.people import account_routes, guardian_routes
from troth.people import pages as people_pages
from troth.people import routes as people_routes
from troth.people.cards import CardRefusalMiddleware
from troth.policy import routes as policy_routes
from troth.runtime import Runtime
from troth.security import api as security_api
from troth.security import pages as security_pages
from troth.web import api_docs, console, errors, health
from troth.web.security_headers import SecurityHeadersMiddleware
from troth.web.templating import STATIC_DIR


def create_app(
    settings: Settings, runtime: Runtime | None = None, *, collect: bool = True
) -> FastAPI:
    """The web app. `collect=False` leaves out the collect layer, for a server that puts it
    in front of the whole app itself (see `serving_app`)."""
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
    app.add_middleware(CardRefusalMiddleware)  # inside: its refusals get the headers
    app.add_middleware(SecurityHeadersMiddleware)
    if collect:
        app.add_middleware(CollectEndpoint, runtime=runtime)
    errors.install(app)
    app.mount("/static/swagger", StaticFiles(directory=api_docs.SWAGGER_STATIC), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (health.router, api_docs.router, policy_routes.router, console.router):
        app.include_router(router)
    app.include_router(security_pages.router)
    app.include_router(security_api.router)
    app.include_router(script_routes.router)
    app.include_router(identify_routes.router)
    app.include_router(consent_routes.router)
    app.include_router(consent_pages.router)
    app.include_router(people_routes.router)
    app.include_router(people_pages.router)
    app.include_router(guardian_routes.router)
    app.include_router(guardian_routes.api_router)
    app.include_router(account_routes.api)
    app.include_router(account_routes.pages)
    app.include_router(analytics_routes.router)
    app.include_router(analytics_pages.router)
    return app


def serving_app(settings: Settings, runtime: Runtime) -> CollectEndpoint:
    """What the server runs: the collect layer first, so a hit skips every framework layer,
    uvicorn's proxy-headers one included (the collect layer reads X-Forwarded-For itself).
    Serve it with uvicorn's `proxy_headers` off."""
    trusted = settings.forwarded_allow_ips
    inner: Any = create_app(settings, runtime, collect=False)  # uvicorn types ASGI its own way
    app = cast("ASGIApp", ProxyHeadersMiddleware(inner, trusted))
    return CollectEndpoint(app, runtime, TrustedProxies(trusted))
