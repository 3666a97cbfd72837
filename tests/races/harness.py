"""Two people acting at the same moment, each on their own database connection.

`race()` runs each callable in its own thread. Every thread opens its connection first, then all
wait at one `threading.Barrier`, so the timed part starts together; a thread's connection is closed
when it finishes (Django gives every thread its own). The optional head start lets a round put one
side a few milliseconds ahead, so a loop of rounds sees both orders, not just the one that thread
start-up happens to favour.

`Tally` counts what a loop of rounds saw and prints it, so `pytest -s` shows the figures.
"""

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import connection

from portfolio.models import Claim, Enrolment, EvidenceVersion
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from tests.helpers import PLAN, attach_file, criterion, details

ROUNDS = 20


def race(*work: Callable[[], object], delays: Sequence[float] = ()) -> list[object]:
    """Run each callable in its own thread at the same moment: what each returned, or raised."""
    barrier = threading.Barrier(len(work))
    results: list[object] = [None] * len(work)
    delays = list(delays) or [0.0] * len(work)

    def run(i: int) -> None:
        try:
            connection.ensure_connection()  # connecting is slow: do it before the start line
            barrier.wait(timeout=10)
            if delays[i]:
                time.sleep(delays[i])
            results[i] = work[i]()
        except BaseException as error:  # the test inspects what each side got
            results[i] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"{stuck} still running after 60 s: a deadlock or a lock wait that never ends"
    return results


def head_starts(rounds: int, seed: int, most: float = 0.004) -> list[tuple[float, float]]:
    """Per round, (delay of side 0, delay of side 1): alternately one side or the other starts
    between a quarter of `most` and `most` seconds later, and every other round neither does.
    Seeded, so a failure can be rerun."""
    rng = random.Random(seed)
    starts = []
    for i in range(rounds):
        late = rng.uniform(most / 4, most)
        starts.append([(0.0, 0.0), (late, 0.0), (0.0, late), (0.0, 0.0)][i % 4])
    return starts


@dataclass
class Tally:
    """What a loop of rounds saw. `counts` keys are the figures; `seen` keeps one example of each kind."""

    race: str
    keys: Sequence[str] = ()  # figures reported even when they stay at 0
    counts: Counter[str] = field(default_factory=Counter)
    seen: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in self.keys:
            self.counts[key] += 0

    def add(self, key: str, example: object = None, n: int = 1) -> None:
        self.counts[key] += n
        if example is not None and key not in self.seen:
            self.seen[key] = repr(example)[:300]

    def report(self) -> str:
        figures = ", ".join(f"{key}={value}" for key, value in sorted(self.counts.items()))
        examples = "".join(f"\n    {key}: {text}" for key, text in sorted(self.seen.items()))
        return f"[race] {self.race}: {figures}{examples}"

    def show(self) -> str:
        text = self.report()
        print(f"\n{text}")
        return text


# Building what the races act on, through the services, as a learner would.


def submitted(enrolment: Enrolment, numbers: Sequence[str] = ("1.1", "1.2"), unit_key: str = PLAN) -> EvidenceVersion:
    """A new piece of evidence claiming `numbers` of the unit, with a file, declared and submitted."""
    learner = enrolment.learner
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    version = evidence.current_version
    attach_file(version, f"{evidence.uuid}.pdf", f"%PDF-1.4 {evidence.uuid}".encode())  # unique per portfolio
    accounts = {criterion(unit_key, n): f"My account of {n}." for n in numbers}
    mapping_set(version=version, by=learner, accounts=accounts, items=[])
    return evidence_submit(version=version, by=learner, declared=True)


def claims_of(version: EvidenceVersion) -> dict[str, Claim]:
    """The version's claims by criterion number."""
    return {c.criterion.number: c for c in version.claims.select_related("criterion")}
