"""A lazy body: the action returns a generator, which runs while the server writes."""

from collections.abc import Iterator

from framework import request, response
from sample_app.lib.base import BaseController

CHUNKS = 5

# Each chunk's number is appended here when it is produced, so a caller can see
# that nothing was produced before the body was iterated.
PRODUCED_KEY = "sample_app.stream.produced"


class StreamController(BaseController):
    def index(self) -> Iterator[str]:
        response.content_type = "text/plain"
        produced = request.environ.setdefault(PRODUCED_KEY, [])

        # The generator must not use the special globals (request, response...):
        # it runs after RegistryManager has popped them. It uses only its locals.
        def chunks() -> Iterator[str]:
            for number in range(1, CHUNKS + 1):
                produced.append(number)
                yield f"chunk {number} of {CHUNKS}\n"

        return chunks()
