"""An httpx transport that hands requests to the sandbox in this process, without a socket:
for demo data and tests that want the real signed path but no server."""

from __future__ import annotations

import httpx

from campaigns.sandbox.service import serve


class InProcessSandbox(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = serve(
            request.method,
            request.url.path,
            request.url.query.decode(),
            dict(request.headers),
            request.read(),
        )
        if response is None:
            raise httpx.RemoteProtocolError("the sandbox dropped the connection", request=request)
        return httpx.Response(response.status, headers=response.headers, content=response.body)
