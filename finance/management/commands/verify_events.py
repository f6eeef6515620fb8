from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from finance import metrics
from finance.eventstore.verification import verify_chains


class Command(BaseCommand):
    help = "Re-walk every stream's hash chain; exit non-zero naming the first bad event."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, no_progress=False, **options):
        with tqdm(desc="events", unit="ev", disable=no_progress, file=self.stderr) as bar:
            checked, bad = verify_chains(progress=bar.update)
        metrics.record_verification(metrics.EVENT_LOG, differences=1 if bad else 0)
        if bad:
            raise CommandError(f"tampered or broken event log: {bad}")
        self.stdout.write(f"ok: {checked} events, every hash chain intact")
