"""The harness's output capture, driven directly in a child process: whatever writes to fd 1 or 2 during an epoch
(Python's print, a C-level write such as tf.print's, a child process) lands in that epoch's segment, in order."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys
    from grader.harness.capture import EpochOutput, StreamCapture

    epochs = EpochOutput(cap=10_000)
    capture = StreamCapture(budget_bytes=BUDGET, epochs=epochs)
    capture.start()
    epochs.start(1)
    print("python print in epoch 1")
    os.write(2, b"C-level stderr in epoch 1\\n")          # what tf.print does (C++ writes to fd 2)
    epochs.start(2)
    sys.stdout.write("no newline yet ")                   # still buffered in Python when the epoch changes
    subprocess.run(["echo", "child process in epoch 2"])  # inherits fd 1
    os.write(1, b"\\x00 a NUL byte that is not a sentinel\\n")
    epochs.stop()
    print("after training")
    capture.sync()
    json.dump({"1": epochs.text(1), "2": epochs.text(2), "truncated": capture.truncated},
              open(sys.argv[1], "w"))
""")


def _run(tmp_path, budget: int) -> tuple[dict, subprocess.CompletedProcess[bytes]]:
    script = tmp_path / "drive.py"
    script.write_text(SCRIPT.replace("BUDGET", str(budget)))
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, timeout=60,
                          env={"PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[1]),
                               "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc


def test_every_writer_lands_in_its_epoch(tmp_path) -> None:
    seen, proc = _run(tmp_path, budget=1_000_000)
    assert "python print in epoch 1" in seen["1"] and "C-level stderr in epoch 1" in seen["1"]
    assert "child process in epoch 2" in seen["2"] and "no newline yet" in seen["2"]
    assert "a NUL byte that is not a sentinel" in seen["2"]
    assert "epoch 1" not in seen["2"] and "after training" not in seen["1"] + seen["2"]
    # Everything is forwarded to the real streams too, without the sync sentinels.
    assert b"after training" in proc.stdout and b"C-level stderr in epoch 1" in proc.stderr
    assert b"cnngrade-sync" not in proc.stdout + proc.stderr
    assert seen["truncated"] is False


def test_forwarded_output_is_capped_but_epochs_still_see_it(tmp_path) -> None:
    seen, proc = _run(tmp_path, budget=30)
    assert seen["truncated"] is True
    assert len(proc.stdout) + len(proc.stderr) < 200 and b"output truncated here" in proc.stdout + proc.stderr
    assert "child process in epoch 2" in seen["2"]


def test_a_chatty_epoch_keeps_its_last_lines() -> None:
    from grader.harness.capture import EpochOutput

    epochs = EpochOutput(cap=1000)
    epochs.start(1)
    for batch in range(1875):  # print(logs) in on_train_batch_end on full MNIST
        epochs.add(f"{{'loss': 0.01, 'accuracy': 0.99, 'batch': {batch}}}\n")
    epochs.add("Reached 99.8% accuracy so cancelling training!\n")
    text = epochs.text(1)
    assert "'batch': 0}" in text and text.rstrip().endswith("cancelling training!")
    assert "characters not kept" in text and len(text) < 1100
