"""An http part in Python: no Lodge SDK, just wasi:http/incoming-handler
as componentize-py's bindings give it (like componentize-py's own http
example). CPython's runtime imports wasi:sockets whether or not the app
uses it; /socket and /lookup use it, and answer with what went wrong.

    GET  /         a greeting naming the method and path
    POST /echo     the request body, upper-cased
    GET  /socket   a TCP connection to 127.0.0.1:9: the error it got
    GET  /lookup   a name lookup of lodge.invalid: the error it got
"""

import encodings.idna  # noqa: F401  socket looks it up at run time; componentize-py bundles only what is imported
import errno
import socket

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.types import (
    Fields,
    IncomingRequest,
    Method_Get,
    Method_Post,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)

# blocking-write-and-flush takes at most 4096 bytes per call.
WRITE_CHUNK = 4096


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        method = request.method()
        path = request.path_with_query() or "/"
        if isinstance(method, Method_Post) and path == "/echo":
            respond(response_out, 200, read_body(request).upper())
        elif path == "/socket":
            respond(response_out, 200, attempt(connect))
        elif path == "/lookup":
            respond(response_out, 200, attempt(lambda: socket.getaddrinfo("lodge.invalid", 80)))
        elif isinstance(method, Method_Get):
            print(f"python handled GET {path}")
            respond(response_out, 200, f"Hello from Python! You asked for {path}\n".encode())
        else:
            respond(response_out, 405, b"method not allowed\n")


def connect() -> None:
    # A numeric address, so this is a TCP connection and no name lookup.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(("127.0.0.1", 9))


def attempt(action) -> bytes:
    """Runs `action`; says whether it worked or the error it raised."""
    try:
        action()
    except OSError as e:
        name = errno.errorcode.get(e.errno, str(e.errno))
        return f"error: {type(e).__name__} {name}: {e.strerror or e}\n".encode()
    return b"ok\n"


def read_body(request: IncomingRequest) -> bytes:
    chunks = []
    # The stream is a child of the body: it goes first.
    with request.consume() as body, body.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(65536))
            except Err as e:
                if isinstance(e.value, StreamError_Closed):
                    break
                raise
    return b"".join(chunks)


def respond(response_out: ResponseOutparam, status: int, body: bytes) -> None:
    response = OutgoingResponse(Fields.from_list([("content-type", b"text/plain; charset=utf-8")]))
    response.set_status_code(status)
    outgoing = response.body()
    ResponseOutparam.set(response_out, Ok(response))
    with outgoing.write() as stream:
        for start in range(0, len(body), WRITE_CHUNK):
            stream.blocking_write_and_flush(body[start : start + WRITE_CHUNK])
    OutgoingBody.finish(outgoing, None)
