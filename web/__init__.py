"""The web front end: FastAPI routers over the services bundle (a transport, exactly like ``handlers/``).

It parses HTTP input, calls ``trader.services`` and turns their DTOs into JSON; it never builds an
adapter or reaches into the runtime (an import-linter contract keeps it that way). The runtime serves
the app built by ``web.app.create_app`` on uvicorn inside the service's own event loop.
"""
