from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from finance import metrics
from finance.eventstore import store
from ledger import rebuild


class Command(BaseCommand):
    help = "Rebuild the read models into scratch tables and compare them with the live ones."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, no_progress=False, **options):
        with tqdm(total=store.event_count(), desc="events", unit="ev", disable=no_progress, file=self.stderr) as bar:
            differences = rebuild.verify(progress=bar.update)
        drift = sum(differences.values())
        metrics.record_verification(metrics.PROJECTIONS, differences=drift)
        for table, count in differences.items():
            if count:
                self.stderr.write(f"{table}: {count} rows differ")
        if drift:
            raise CommandError(f"read models differ from the event log in {drift} rows")
        self.stdout.write(f"ok: {len(differences)} read models match the event log")
