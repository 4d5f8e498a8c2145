#!/usr/bin/env python3
"""process_2.py - the second of the two Python programs this project started
from, with only the import changed (plus the lock): it attaches the shared
memory block MyMemory made by process_1.py (or the C demo/process1), sets
bytes 1-3 to 2, 3 and 4, and prints bytes 0-3 twice a second: "1 2 3 4".
Ctrl-C ends it; it closes its attachment and leaves the block alone.

    usage: process_2.py [--name NAME] [--count N] [--interval MS]
"""
import argparse
import time

from sysvshm import SharedMemory  # was: from multiprocessing.shared_memory import SharedMemory

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--name", default="MyMemory")
parser.add_argument("--count", type=int, default=0, help="stop after N lines")
parser.add_argument("--interval", type=int, default=500, help="milliseconds")
args = parser.parse_args()

# Attach to a shared memory
shared_mem = SharedMemory(name=args.name, create=False)
try:
    # Write data to shared memory
    with shared_mem.lock():
        shared_mem.buf[1] = 2
        shared_mem.buf[2] = 3
        shared_mem.buf[3] = 4
    rounds = 0
    while True:
        # Read data from shared memory
        try:
            with shared_mem.lock(write=False):
                data = bytes(shared_mem.buf[0:4])
        except FileNotFoundError:  # process_1 ended and destroyed the block
            break
        print(*data, flush=True)
        rounds += 1
        if rounds == args.count:
            break
        time.sleep(args.interval / 1000)
except KeyboardInterrupt:
    pass
finally:
    # Close access to the shared memory (process_1 destroys it)
    shared_mem.close()
