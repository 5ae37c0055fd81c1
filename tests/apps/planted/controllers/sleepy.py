"""Known sleeps in __before__, the action, the template and the lazy body."""

import time
from collections.abc import Iterator

from framework.controllers import WSGIController
from framework.templating import render_mako
from tests.apps import planted


class SleepyController(WSGIController):
    def __before__(self) -> None:
        time.sleep(planted.BEFORE_SLEEP)

    def index(self) -> Iterator[str]:
        time.sleep(planted.ACTION_SLEEP)
        page = render_mako("/sleepy.mako", extra_vars={"nap": time.sleep,
                                                        "seconds": planted.TEMPLATE_SLEEP})

        def body() -> Iterator[str]:
            yield page
            time.sleep(planted.BODY_SLEEP)
            yield "done\n"

        return body()
