"""The banner script and the consent API the banner calls from the declared sites.

GET /consent.js, GET /api/consent/config, POST /api/consent (OPTIONS for its preflight).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from troth.collect.geo import country_of
from troth.collect.scripts.served import script_response
from troth.consent import service
from troth.consent.banner import banner_script
from troth.consent.body import consent_body
from troth.consent.cors import CorsRoute, preflight_headers, require_origin, site_of_origin
from troth.consent.regions import CountryLookup, mode_for
from troth.consent.schemas import ConsentConfig, ConsentIn
from troth.errors import Forbidden
from troth.runtime import Runtime
from troth.security.clock import ClockDep
from troth.security.deps import public
from troth.web.deps import RuntimeDep, SessionDep

router = APIRouter(tags=["consent"], dependencies=[Depends(public)], route_class=CorsRoute)


def country_or_none(ip: str) -> str | None:
    return country_of(ip) or None


def get_country_lookup() -> CountryLookup:
    """How a visitor's country is found from their IP: the GeoIP database the collector uses."""
    return country_or_none


CountryLookupDep = Annotated[CountryLookup, Depends(get_country_lookup)]
SiteParam = Annotated[str, Query(min_length=1, max_length=253)]


def declared_origin(request: Request, runtime: RuntimeDep) -> str:
    return require_origin(runtime.declaration, request.headers.get("origin"))


DeclaredOrigin = Annotated[str, Depends(declared_origin)]
Choice = Annotated[ConsentIn, Depends(consent_body)]


@router.get("/consent.js", response_class=Response)
def banner(request: Request, runtime: RuntimeDep) -> Response:
    """The consent banner, generated from the declared cookies."""
    return script_response(request, banner_script(runtime.declaration))


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/api/consent/config")
def config(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    lookup: CountryLookupDep,
    session: SessionDep,
    site: SiteParam,
) -> ConsentConfig:
    """Whether this visitor's region asks for an opt-in or allows an opt-out of analytics."""
    declaration = runtime.declaration
    origin = request.headers.get("origin")
    if origin:
        require_origin(declaration, origin)
    service.declared_site(declaration, site)
    response.headers["Cache-Control"] = "no-store"
    return ConsentConfig(
        mode=mode_for(declaration.consent, lookup(_client_ip(request))),
        policy_version=service.current_policy_version(session),
    )


@router.options("/api/consent")
def preflight(origin: DeclaredOrigin) -> Response:
    return Response(status_code=204, headers=preflight_headers(origin))


def _same_site(runtime: Runtime, origin: str, site: str) -> None:
    declaration = runtime.declaration
    if site_of_origin(declaration, origin) != service.declared_site(declaration, site):
        raise Forbidden(f"a page of {origin} may not record choices for {site!r}")


@router.post("/api/consent", status_code=204, response_class=Response)
def record_choice(
    origin: DeclaredOrigin,
    choice: Choice,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Record a visitor's cookie choice in the consent ledger."""
    _same_site(runtime, origin, choice.site)
    service.record(session, runtime.declaration, choice, clock())
    return Response(status_code=204)
