"""distilabel's OpenAILLM with a total deadline per request (issue 19, item 11).

httpx's read timeout restarts on every byte, so an endpoint that trickles a byte now and then
kept a run waiting forever. Here each attempt (connect, headers and the whole body) ends after
`timeout` seconds at most, reported as a read timeout, which the OpenAI client retries
`max_retries` times like any other timeout. Imported only when an OpenAI-compatible LLM is
built (needs the `synthetic` extra); a module-level class, so distilabel (and Ray) can rebuild
it by name.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from distilabel.models.llms import OpenAILLM


class _DeadlineStream(httpx.AsyncByteStream):
    def __init__(self, inner: Any, deadline: float, request: httpx.Request) -> None:
        self._inner, self._deadline, self._request = inner, deadline, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._inner.__aiter__()
        while True:
            left = self._deadline - asyncio.get_running_loop().time()
            try:
                chunk = await asyncio.wait_for(chunks.__anext__(), max(left, 0))
            except StopAsyncIteration:
                return
            except asyncio.TimeoutError:
                raise httpx.ReadTimeout(
                    "the answer did not complete within the deadline", request=self._request
                ) from None
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class DeadlineTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose every request, body included, ends within `seconds`."""

    def __init__(self, seconds: float, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.seconds = seconds
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = asyncio.get_running_loop().time() + self.seconds
        try:
            response = await asyncio.wait_for(
                self._inner.handle_async_request(request), self.seconds
            )
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout(
                f"no complete answer within {self.seconds:g} s", request=request
            ) from None
        response.stream = _DeadlineStream(response.stream, deadline, request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class DeadlineOpenAILLM(OpenAILLM):
    """OpenAILLM whose requests each end within `timeout` seconds in total."""

    def load(self) -> None:
        super().load()
        seconds = float(self.timeout)
        client = httpx.AsyncClient(transport=DeadlineTransport(seconds), timeout=seconds)
        self._aclient = self._aclient.copy(http_client=client)
