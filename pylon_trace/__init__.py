"""pylon-trace: see how a request travels through a WSGI stack."""

__version__ = "0.1.0"
