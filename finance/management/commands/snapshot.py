from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from finance import repository
from finance.eventstore import store


class Command(BaseCommand):
    help = "Snapshot the streams that are due (or, with --all, every stream) from a fresh load."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="snapshot every stream, due or not")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, all=False, no_progress=False, **options):
        if all:
            streams = store.all_stream_ids()
        else:
            streams = store.streams_due_for_snapshot(
                every=settings.FINANCE_SNAPSHOT_EVERY,
                schema_versions={name: cls.SCHEMA_VERSION for name, cls in repository.AGGREGATE_TYPES.items()},
                limit=10**9,
            )
        written = 0
        for stream_id, stream_type in tqdm(streams, desc="snapshots", disable=no_progress, file=self.stderr):
            written += repository.snapshot(stream_id, stream_type)
        self.stdout.write(f"{written} snapshots written, {len(streams)} streams looked at")
