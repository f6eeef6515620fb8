from django.core.management.base import BaseCommand
from tqdm import tqdm

from finance.eventstore import store
from ledger import rebuild


class Command(BaseCommand):
    help = "Rebuild every read model from the event log (in one transaction)."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, no_progress=False, **options):
        with tqdm(total=store.event_count(), desc="events", unit="ev", disable=no_progress, file=self.stderr) as bar:
            count = rebuild.rebuild(progress=bar.update)
        self.stdout.write(f"rebuilt the read models from {count} events")
