"""One hit in, one stored event out: validate -> consent -> enrich -> scrub -> IP -> visitor key.

Each stage lives in its own module; this file only puts them in order and holds what they
share (the compiled declaration, the daily salts, the key for kept IP addresses).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from troth.collect import linking
from troth.collect.config import CollectConfig, compile_config, cookie_mode
from troth.collect.enrich import enrich
from troth.collect.event import Event, Hit, RequestContext
from troth.collect.identify import IdentifyTokens
from troth.collect.ip import handle_ip
from troth.collect.referrer import page
from troth.collect.scrub import scrub_event
from troth.collect.sites import Sites
from troth.collect.visitor import FileSalts, SaltSource, salt_day, visitor_key
from troth.keys.errors import NoPersonKey
from troth.policy.schema import Declaration, IpHandling
from troth.runtime import Runtime

IP_KEY_ID = "system:collect-ip"
"""The key-store entry that encrypts kept IP addresses (ip: encrypt); destroying it erases
every kept address at once."""


class OutOfScope(ValueError):
    """The hit names a site, or a page on a host, the privacy policy does not cover (SC1)."""


@dataclass
class Pipeline:
    runtime: Runtime
    salts: SaltSource
    _declaration: Declaration | None = None
    _config: CollectConfig | None = None
    _ip_key: bytes | None = field(default=None, repr=False)
    _identify: IdentifyTokens | None = field(default=None, repr=False)

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> Pipeline:
        linking.attach(runtime)
        return cls(runtime, FileSalts(runtime.settings.data_dir))

    @property
    def config(self) -> CollectConfig:
        declaration = self.runtime.declaration
        if declaration is not self._declaration or self._config is None:
            self._config = compile_config(declaration)  # a new version was published
            self._declaration = declaration
        return self._config

    @property
    def sites(self) -> Sites:
        return self.config.sites

    def process(self, hit: Hit, context: RequestContext) -> Event | None:
        """The event to store, or None for automated traffic; raises OutOfScope for a hit
        from a site or page the policy does not cover (SC1)."""
        config = self.config
        if not config.is_declared_site(hit.site):
            raise OutOfScope(f"'{hit.site}' is not a site the privacy policy covers")
        where = page(hit.url, config)  # split once: for this check and for the event
        if config.site_of(where.url_host) != hit.site:
            raise OutOfScope(f"the page's host is not '{hit.site}' or a subdomain it covers")
        found = enrich(hit, context, config, where)
        if found.agent.is_bot:
            return None
        cookie = _cookie_mode(config, hit, context, found.country)
        key = visitor_key(
            cookie_mode=cookie,
            visitor_id=hit.visitor_id,
            site=hit.site,
            ip=context.client_ip,
            user_agent=context.user_agent,
            day=salt_day(context.now),
            salts=self.salts,
        )
        event = Event(
            site=hit.site,
            ts=found.ts,
            kind=hit.kind.value,
            path=found.page.path,
            visitor_key=key.key,
            cookieless=key.cookieless,
            name=hit.name,
            title=hit.title,
            hostname=found.page.hostname,
            referrer_host=found.referrer_host,
            referrer_path=found.referrer_path,
            country=found.country,
            language=found.language,
            browser=found.agent.browser,
            browser_version=found.agent.browser_version,
            os=found.agent.os,
            os_version=found.agent.os_version,
            device=found.device,
            props=dict(hit.props),
            ip=handle_ip(context.client_ip, config.ip, self._key_for_ip(config)),
            **found.page.campaign,
        )
        scrub_event(event, event.country or config.phone_region)
        if hit.identify_token and not key.cookieless:  # without consent, never linked
            event.person_id = self._identified(hit, context)
        return event

    def _identified(self, hit: Hit, context: RequestContext) -> str | None:
        """The person a genuine, unexpired token for this site names; ingest decides the rest."""
        if self._identify is None:
            self._identify = IdentifyTokens.of(self.runtime.keys)
        return self._identify.person_of(hit.identify_token, hit.site, context.now)

    def _key_for_ip(self, config: CollectConfig) -> bytes | None:
        if config.ip is not IpHandling.encrypt:
            return None
        if self._ip_key is None:
            store = self.runtime.keys
            try:
                self._ip_key = store.data_key(IP_KEY_ID)
            except NoPersonKey:
                store.create_key(IP_KEY_ID)
                self._ip_key = store.data_key(IP_KEY_ID)
        return self._ip_key


def _cookie_mode(config: CollectConfig, hit: Hit, context: RequestContext, country: str) -> bool:
    return cookie_mode(
        config, consent=hit.analytics_consent, gpc=context.gpc, dnt=context.dnt, country=country
    )
