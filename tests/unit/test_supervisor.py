"""The local stack's supervisor: a part that dies is started again after a back-off that grows while it keeps
dying and resets once it has stayed up."""

from deploy.local.supervisor import FIRST_BACKOFF, LONGEST_BACKOFF, STEADY_SECONDS, Part, Supervisor


class Process:
    """A fake part: dies when told, starts when asked (or refuses to, a number of times)."""

    def __init__(self, refusals: int = 0) -> None:
        self.up, self.starts, self.refusals = True, 0, refusals

    def restart(self) -> None:
        if self.refusals:
            self.refusals -= 1
            raise OSError("port in use")
        self.up, self.starts = True, self.starts + 1


def supervised(process: Process) -> tuple[Supervisor, list[str], list[float]]:
    now, said = [0.0], []
    supervisor = Supervisor([Part("alerting", lambda: process.up, process.restart)], say=said.append,
                            clock=lambda: now[0])
    return supervisor, said, now


def test_a_dead_part_is_started_again_after_its_backoff_and_the_restart_is_said():
    process = Process()
    supervisor, said, now = supervised(process)
    process.up = False
    supervisor.check()
    assert process.starts == 0 and said == [f"alerting died; starting it again in {FIRST_BACKOFF:.1f}s"]
    now[0] += FIRST_BACKOFF
    supervisor.check()
    assert process.starts == 1 and said[-1] == "alerting started again (restart 1)"
    assert supervisor.restarts == {"alerting": 1}


def test_a_part_that_keeps_dying_waits_longer_each_time_up_to_the_longest_backoff():
    process = Process()
    supervisor, said, now = supervised(process)
    waits = []
    for _ in range(8):
        process.up = False
        supervisor.check()
        waited = 0.0
        while not process.up:
            now[0] += 0.5
            waited += 0.5
            supervisor.check()
        waits.append(waited)
    assert waits == sorted(waits) and waits[0] == FIRST_BACKOFF and waits[-1] == LONGEST_BACKOFF


def test_a_part_that_stayed_up_is_restarted_at_once_again_and_a_failed_start_is_tried_later():
    process = Process(refusals=1)
    supervisor, said, now = supervised(process)
    for _ in range(3):
        process.up = False
        supervisor.check()
        while not process.up:
            now[0] += 0.5
            supervisor.check()
    assert "did not start (port in use)" in " ".join(said), "a refused start is said and tried again"
    now[0] += STEADY_SECONDS
    supervisor.check()
    process.up = False
    supervisor.check()
    assert said[-1] == f"alerting died; starting it again in {FIRST_BACKOFF:.1f}s"
