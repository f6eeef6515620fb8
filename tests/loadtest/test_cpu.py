import subprocess
import sys

from loadtest import cpu

# A parent that, when told, runs a child spinning 0.5 s of CPU, waits for it (the child's
# time moves to the parent's cutime) and says so; as a gunicorn master does for a
# recycled worker, or the postmaster for a backend of a closed connection.
PARENT = """
import subprocess, sys
sys.stdin.readline()
spin = "import time\\nend = time.process_time() + 0.5\\nwhile time.process_time() < end: pass"
subprocess.run([sys.executable, "-c", spin], check=True)
print("done", flush=True)
sys.stdin.readline()
"""


def test_a_part_counts_the_cpu_of_children_that_exited_during_the_window():
    parent = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        parts = {"parent": [parent.pid]}
        before = cpu.snapshot(parts)
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "done"
        after = cpu.snapshot(parts)
    finally:
        parent.communicate("\n", timeout=30)

    spent = cpu.per_request(before, after, requests=10)

    assert 0.45 * 1000 / 10 <= spent["parent"] <= 5 * 1000 / 10  # ms per request: 0.5 s over 10
    assert spent["machine"] >= spent["parent"]
    assert spent["everything else"] >= 0
    assert cpu.per_request(before, after, requests=0) == {}
