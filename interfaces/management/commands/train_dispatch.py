from django.core.management.base import BaseCommand, CommandError

from dispatch.learning.store import save
from dispatch.learning.training import CONFIDENT, train


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = (
        "Train the smart-dispatch model (智能分拨) on the events in the database (title, description, source, "
        "place; final category and final handling department as labels), print its time-ordered held-out "
        "accuracy and calibration, and store it under the var directory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--max-events", type=int, default=300_000, help="Train on the newest N events.")
        parser.add_argument("--held-out", type=float, default=0.2, help="Newest share kept for measuring.")

    def handle(self, *args, **o):
        if o["max_events"] < 0 or not 0 < o["held_out"] < 1:
            raise CommandError("--max-events must be ≥ 0 and --held-out between 0 and 1.")
        trained = train(max_events=o["max_events"] or None, held_out_share=o["held_out"])
        meta, ev = trained.meta, trained.meta["evaluation"]
        out = self.stdout.write
        out(f"events used: {meta['events']} (+ {meta['catalogue_documents']} catalogue documents), "
            f"{meta['categories']} categories, {meta['kind']} model, {meta['seconds']} s")  # fmt: skip
        if ev["held_out"]:
            out(f"held-out (newest {o['held_out']:.0%}, {ev['held_out']} events): "
                f"top-1 {_pct(ev['top1'])}, top-3 {_pct(ev['top3'])}")  # fmt: skip
            out("calibration (confidence bin: events, mean confidence, accuracy):")
            for b in ev["reliability"]:
                bounds = f"{b['from']:.1f}–{b['to']:.1f}"
                out(f"  {bounds}: {b['count']:>6}  {b['mean_confidence']:.3f}  {b['accuracy']:.3f}")
            out(f"confidence ≥ {CONFIDENT}: {_pct(ev['confident_share'])} of events, "
                f"{_pct(ev['confident_precision'])} of them right")  # fmt: skip
        else:
            out("held-out: too little history to measure (the model starts from the catalogue)")
        out(f"stored {save(trained)}")
