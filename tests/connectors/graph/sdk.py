"""Microsoft's own Graph SDK (``msgraph-sdk``) as a second client of the Graph stand-in.

deskhand's Graph client and the stand-in were written by the same hands, so they can agree on
something real Graph does not do. The SDK was written by Microsoft from Graph's own description:
every Graph call deskhand makes is also made through it against the stand-in
(``test_sdk_client.py``) and must come back as the SDK's models, so the stand-in cannot drift
from real Graph unnoticed. The SDK is a dev dependency only; deskhand keeps its own client.

``SdkClient`` points a ``GraphServiceClient`` at the running stand-in: the stand-in's address
as the base URL, a token from the stand-in's own token endpoint (never the internet), and TLS
that trusts the stand-in's throw-away CA. Each call runs on its own event loop with its own
HTTP client, so a test stays a plain synchronous function.

How to add a test for a new Graph call (one test per call deskhand's client makes):

1. Find the SDK's request builder for the call: the path with each segment in snake case and
   ``by_…_id`` for a key, e.g. ``users/{id}/mailboxSettings`` is
   ``client.users.by_user_id(id).mailbox_settings``, ``users/{id}/memberOf/microsoft.graph.group``
   is ``client.users.by_user_id(id).member_of.graph_group``.
2. A GET with the query options deskhand sends (as lists and numbers, not joined strings)::

       found = sdk.get(
           lambda c: c.users.by_user_id(tenant.bob).mailbox_settings,
           select=["automaticRepliesSetting"],
       )

   A collection that pages, every page through the SDK's own reading of ``@odata.nextLink``::

       groups = sdk.pages(lambda c: c.users.by_user_id(id).member_of.graph_group, top=999)

3. Anything else (PATCH, POST, DELETE) with the SDK's models as the body::

       sdk.send(lambda c: c.users.by_user_id(id).patch(User(account_enabled=False)))

4. Assert on the SDK's models (``found.automatic_replies_setting.status`` …) the values the
   stand-in holds, and for a write, the stand-in's state after it. The ``graph`` fixture fails
   the test on any body that Graph's schema does not allow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_request_adapter import options as sdk_options
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from tests.connectors.graph.standin import CLIENT_ID, CLIENT_SECRET, MS_TENANT, GraphStandIn

T = TypeVar("T")


class StandInTokens(AccessTokenProvider):
    """App-only tokens from the stand-in's token endpoint, as Entra issues them."""

    def __init__(self, graph: GraphStandIn) -> None:
        self.graph = graph
        self.token: str | None = None

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        if self.token is None:
            async with httpx.AsyncClient(verify=self.graph.client_ssl()) as http:
                answer = await http.post(
                    f"{self.graph.origin}/{MS_TENANT}/oauth2/v2.0/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "scope": f"{self.graph.origin}/.default",
                    },
                )
            self.token = str(answer.raise_for_status().json()["access_token"])
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator(["127.0.0.1"])


class SdkClient:
    """The SDK pointed at one running stand-in."""

    def __init__(self, graph: GraphStandIn) -> None:
        self.graph = graph
        self.tokens = StandInTokens(graph)

    def send(self, request: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
        """Run ``request`` (a coroutine made from the client) and return what the SDK made of
        the answer; the SDK raises ``ODataError`` for a refusal, as against Graph."""

        async def run(client: GraphServiceClient) -> T:
            return await request(client)

        return _in_own_loop(self._with_client(run))

    def get(self, builder: Callable[[GraphServiceClient], Any], **query: Any) -> Any:
        """GET through the request builder ``builder`` returns, with these OData query options
        (``select=[…]``, ``expand=[…]``, ``filter="…"``, ``top=999``)."""

        async def run(client: GraphServiceClient) -> Any:
            chosen = builder(client)
            return await chosen.get(request_configuration=_configured(chosen, query))

        return _in_own_loop(self._with_client(run))

    def pages(self, builder: Callable[[GraphServiceClient], Any], **query: Any) -> list[Any]:
        """Every item of a collection: the first page with these query options, then each
        ``@odata.nextLink`` as the SDK reads it (``odata_next_link``)."""

        async def run(client: GraphServiceClient) -> list[Any]:
            chosen = builder(client)
            page = await chosen.get(request_configuration=_configured(chosen, query))
            items = list(page.value or [])
            while page.odata_next_link:
                page = await chosen.with_url(page.odata_next_link).get()
                items.extend(page.value or [])
            return items

        return _in_own_loop(self._with_client(run))

    async def _with_client(self, run: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
        base = f"{self.graph.origin}/v1.0"
        http = httpx.AsyncClient(base_url=base, verify=self.graph.client_ssl())
        # The SDK's own middleware (retry, redirect, telemetry) on a client that trusts the CA.
        http = GraphClientFactory.create_with_default_middleware(client=http, options=sdk_options)
        adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(self.tokens), http)
        adapter.base_url = base
        try:
            return await run(GraphServiceClient(request_adapter=adapter))
        finally:
            await http.aclose()


def _configured(builder: Any, query: dict[str, Any]) -> RequestConfiguration[Any] | None:
    """The builder's own GET query-parameter class, filled in (``None`` for no options)."""
    if not query:
        return None
    parameters = next(
        kind for name, kind in vars(type(builder)).items() if name.endswith("GetQueryParameters")
    )
    return RequestConfiguration(query_parameters=parameters(**query))


def _in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to the end in a thread of its own, with an event loop of its own: a test
    process may already run a loop in this thread (Playwright's sync API, in the browser tests
    that ran before on the same worker), and asyncio.run refuses to start a second one."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()
