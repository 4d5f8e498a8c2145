#!/usr/bin/env python3
"""process_1.py - the first of the two Python programs this project started
from, with only the import changed (plus the lock): it creates the shared
memory block MyMemory, sets byte 0 to 1, and prints bytes 0-3 twice a
second.  Run process_2.py (or the C demo/process2) in another terminal to
see "1 2 3 4".  Ctrl-C ends it; it then destroys the block.

    usage: process_1.py [--name NAME] [--count N] [--interval MS]
"""
import argparse
import time

from sysvshm import SharedMemory  # was: from multiprocessing.shared_memory import SharedMemory

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--name", default="MyMemory")
parser.add_argument("--count", type=int, default=0, help="stop after N lines")
parser.add_argument("--interval", type=int, default=500, help="milliseconds")
args = parser.parse_args()

# Create a shared memory with a name
shared_mem = SharedMemory(name=args.name, size=1024, create=True)
try:
    # Write data to shared memory
    with shared_mem.lock():
        shared_mem.buf[0] = 1
    rounds = 0
    while True:
        # Read data from shared memory
        with shared_mem.lock(write=False):
            data = bytes(shared_mem.buf[0:4])
        print(*data, flush=True)
        rounds += 1
        if rounds == args.count:
            break
        time.sleep(args.interval / 1000)
except KeyboardInterrupt:
    pass
finally:
    # Close access to the shared memory, then destroy it
    shared_mem.close()
    shared_mem.unlink()
