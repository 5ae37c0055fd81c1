"""Application setup: environment, routes and the middleware stack."""
