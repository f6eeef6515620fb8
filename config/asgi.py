"""ASGI entry point: the server command in production, so that the SSE stream can hold
connections open without tying up a worker per client."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
