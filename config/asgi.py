"""ASGI entry point: the server command in production, so that the SSE stream can hold
connections open without tying up a worker per client."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from config.concurrency import ConcurrencyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = ConcurrencyLimit(get_asgi_application(), limit=settings.MAX_CONCURRENT_REQUESTS)
