#!/usr/bin/env python3
"""A minimal, lenient HTTP/1.1 upstream for bench/detect.py.

Answers 200 with the header `x-bench-upstream: 1` to every request it can frame, whatever the
method, target or headers, so "the response carries the marker" means "the proxy forwarded the
request". Reads Content-Length and chunked bodies, keeps connections alive.

Usage: upstream.py [PORT]   (0 = kernel-chosen). Binds 127.0.0.1 and prints
"listening on http://127.0.0.1:PORT" once it accepts connections.
"""

from __future__ import annotations

import asyncio
import sys

MARKER = b"x-bench-upstream"
REPLY = (
    b"HTTP/1.1 200 OK\r\n"
    + MARKER
    + b": 1\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
)
MAX_HEAD = 1 << 20


def parse_head(head: bytes) -> tuple[int | None, bool, bool]:
    """(content-length, chunked, close) from a request head."""
    length, chunked, close = None, False, False
    version = head.split(b"\r\n", 1)[0].rsplit(b" ", 1)[-1].strip().upper()
    if version == b"HTTP/1.0":
        close = True
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                pass
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection":
            close = value == b"close" or (value != b"keep-alive" and close)
    return length, chunked, close


async def read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size_line = await reader.readline()
        if not size_line:
            raise ConnectionError("eof in chunked body")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return
        await reader.readexactly(size + 2)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            length, chunked, close = parse_head(head)
            try:
                if chunked:
                    await read_chunked(reader)
                elif length:
                    await reader.readexactly(length)
            except (ValueError, ConnectionError, asyncio.IncompleteReadError):
                close = True  # cannot frame the rest: answer, then close
            writer.write(REPLY + (b"connection: close\r\n" if close else b"") + b"\r\n{}")
            await writer.drain()
            if close:
                return
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, limit=MAX_HEAD, backlog=1024)
    print(f"listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    except KeyboardInterrupt:
        pass
