"""Visit ids come from a generator seeded once per process, and again in a forked child."""

from __future__ import annotations

import os

from troth.analytics.sessions import new_visit_id


def test_a_forked_child_does_not_repeat_the_parents_visit_ids() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids, then leave at once, whatever happens
        try:
            os.close(read_end)
            os.write(write_end, ",".join(str(new_visit_id()) for _ in range(5)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    theirs = [int(i) for i in os.read(read_end, 4096).decode().split(",")]
    os.close(read_end)
    os.waitpid(pid, 0)
    ours = [new_visit_id() for _ in range(5)]
    assert len(theirs) == 5
    assert not set(ours) & set(theirs)


def test_visit_ids_are_63_bit_and_never_zero() -> None:
    ids = [new_visit_id() for _ in range(10_000)]
    assert all(0 < i < 2**63 for i in ids)
    assert len(set(ids)) == len(ids)
