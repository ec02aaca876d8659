"""The provider interface: accounts, built requests, the signed call and the registry.

A provider builds each request in a pure function (no I/O; every rule of the seeds is
checked and each broken rule named, see ``errors.RuleCheck``) and sends it with
``ProviderClient.call``, which signs, sends and turns every failure into a
``ProviderError`` saying whether trying again can help. The dispatch engine decides what
to do; providers never retry by themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

import httpx

from campaigns.providers import signing
from campaigns.providers.errors import ProviderError, is_permanent, retry_after_seconds
from campaigns.providers.transport import pooled_client


class SignatureVersion(StrEnum):
    V3 = "v3"  # ACS3-HMAC-SHA256, the official SDKs' default
    V1 = "v1"  # HMAC-SHA1 in the query string


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(access_key_id={self.access_key_id!r}, access_key_secret='••••')"


@dataclass(frozen=True)
class Account:
    """Where and as whom a provider is called: one app's endpoint and keys."""

    endpoint: str  # "https://mpaas.cn-hangzhou.aliyuncs.com/", or the sandbox's URL
    credentials: Credentials
    signature_version: SignatureVersion = SignatureVersion.V3


@dataclass(frozen=True)
class ProviderRequest:
    """One API call, built and checked but not signed: pure data."""

    action: str
    version: str
    params: Mapping[str, str]  # wire names, flattened, every value a string
    in_query: bool  # EMAS sends its parameters in the query string, mPaaS in a form body


@dataclass(frozen=True)
class ProviderResponse:
    """A call the provider accepted: its RequestId and the parsed JSON body."""

    request_id: str
    body: Mapping[str, Any]


class ProviderClient:
    """Signs, sends and parses calls for one account. Subclasses add the actions."""

    name: ClassVar[str]

    def __init__(self, account: Account, http: httpx.Client | None = None) -> None:
        self.account = account
        self.http = http or pooled_client(account.endpoint)
        endpoint = httpx.URL(account.endpoint)
        self._host = endpoint.netloc.decode()
        self._path = endpoint.path or "/"
        self._base_url = account.endpoint.split("?", 1)[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.account.endpoint!r})"

    def call(self, request: ProviderRequest) -> ProviderResponse:
        try:
            response = self.http.send(self.signed(request))
        except httpx.TimeoutException as error:
            raise ProviderError(
                f"No answer from the provider in time ({type(error).__name__}).",
                permanent=False,
                code="Timeout",
            ) from None
        except httpx.TransportError as error:
            raise ProviderError(
                f"Could not reach the provider ({type(error).__name__}).",
                permanent=False,
                code="ConnectionError",
            ) from None
        return self.parse(response)

    def signed(
        self, request: ProviderRequest, *, now: datetime | None = None, nonce: str | None = None
    ) -> httpx.Request:
        """The HTTP request for ``request``, signed as the account's signature version asks."""
        query = dict(request.params) if request.in_query else {}
        body_params = {} if request.in_query else dict(request.params)
        body = signing.form_body(body_params) if body_params else b""
        credentials = self.account.credentials
        if self.account.signature_version is SignatureVersion.V1:
            query = signing.v1_query(
                action=request.action,
                version=request.version,
                query=query,
                body_params=body_params,
                access_key_id=credentials.access_key_id,
                access_key_secret=credentials.access_key_secret,
                now=now,
                nonce=nonce,
            )
            query_string = signing.canonical_query(query)
            headers = {"accept": "application/json"}
            if body:
                headers["content-type"] = signing.FORM_CONTENT_TYPE
        else:
            # Encoded once: the same string is signed and sent (EMAS queries run long).
            query_string = signing.canonical_query(query)
            headers = signing.v3_headers(
                host=self._host,
                action=request.action,
                version=request.version,
                query_string=query_string,
                body=body,
                access_key_id=credentials.access_key_id,
                access_key_secret=credentials.access_key_secret,
                path=self._path,
                now=now,
                nonce=nonce,
            )
        target = f"{self._base_url}?{query_string}" if query_string else self._base_url
        return httpx.Request("POST", target, headers=headers, content=body)

    def parse(self, response: httpx.Response) -> ProviderResponse:
        """The accepted response, or a ProviderError for a gateway error or a bad body."""
        try:
            body = json.loads(response.content) if response.content else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderError(
                f"The provider answered HTTP {response.status_code} with no JSON body.",
                permanent=response.status_code < 500,
                code=f"HTTP{response.status_code}",
                http_status=response.status_code,
            )
        request_id = str(body.get("RequestId") or body.get("requestId") or "")
        if response.status_code >= 400:
            code = str(body.get("Code") or body.get("code") or f"HTTP{response.status_code}")
            raise ProviderError(
                str(body.get("Message") or body.get("message") or ""),
                permanent=is_permanent(code, response.status_code),
                code=code,
                request_id=request_id or None,
                http_status=response.status_code,
                retry_after=retry_after_seconds(response.headers),
            )
        return ProviderResponse(request_id=request_id, body=body)


ClientClass = TypeVar("ClientClass", bound=type[ProviderClient])

PROVIDERS: dict[str, type[ProviderClient]] = {}


def register(name: str) -> Callable[[ClientClass], ClientClass]:
    """Class decorator: make a provider client reachable by name ("mpaas", "emas")."""

    def add(cls: ClientClass) -> ClientClass:
        cls.name = name
        PROVIDERS[name] = cls
        return cls

    return add


def client_for(provider: str, account: Account, http: httpx.Client | None = None) -> ProviderClient:
    try:
        cls = PROVIDERS[provider]
    except KeyError:
        raise LookupError(f"No provider named {provider!r}; known: {sorted(PROVIDERS)}") from None
    return cls(account, http)
