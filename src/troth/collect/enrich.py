"""Server-side enrichment of a hit (CO3): access time, browser, OS, device, language,
country, page and referrer, from the stages in the modules beside this one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from troth.collect.config import CollectConfig
from troth.collect.event import Hit, RequestContext
from troth.collect.geo import country_of
from troth.collect.language import preferred_language
from troth.collect.referrer import Page, page, referrer
from troth.collect.useragent import Agent, device_for_screen, parse_agent


@dataclass(slots=True)  # not frozen: built on every hit (see RequestContext)
class Enrichment:
    ts: dt.datetime
    agent: Agent
    device: str
    language: str
    country: str
    page: Page
    referrer_host: str
    referrer_path: str


def access_time(now: dt.datetime) -> dt.datetime:
    """The server's clock in UTC (a naive time is taken as UTC); the tracker's own
    clock is never trusted."""
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def enrich(
    hit: Hit, ctx: RequestContext, config: CollectConfig, where: Page | None = None
) -> Enrichment:
    """Everything the request and the hit say about the visit, before scrubbing.

    `where` is `page(hit.url, config)` when the caller has it already. Check `agent.is_bot`
    first: a bot's hit is dropped and the rest is wasted work.
    """
    agent = parse_agent(ctx.user_agent)
    if where is None:
        where = page(hit.url, config)
    ref_host, ref_path = referrer(hit.referrer, where.hostname, config)
    return Enrichment(
        ts=access_time(ctx.now),
        agent=agent,
        device=device_for_screen(agent.device, hit.screen_width),
        language=preferred_language(ctx.accept_language),
        country=country_of(ctx.client_ip),
        page=where,
        referrer_host=ref_host,
        referrer_path=ref_path,
    )
