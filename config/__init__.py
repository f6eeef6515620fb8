from config import database_pools
from config.celery import app as celery_app

# Before any process of the service can fork (gunicorn master, Celery worker).
database_pools.register()

__all__ = ["celery_app"]
