#!/usr/bin/env python3
"""The libzmq (pyzmq) end of the firmware exchanges; run.sh starts it.

    peer.py req    PORT        --count N --span S [--timeout S]   a REP
    peer.py pubsub PORT0 PORT1 --count N --span S [--timeout S]   an XPUB and a SUB

Connects to 127.0.0.1 at the given ports, where QEMU's `-serial tcp:`
options listen, in their order (UART0 first), checks every message the firmware
sends against what src/exchange.rs says it must be, prints one result
line and exits 0 only if the whole exchange was right; 1 on a wrong
message or a timeout.
"""

import argparse
import sys
import time

import zmq


# src/exchange.rs PAYLOAD_SPAN (run.sh passes it as --span).
SPAN = None


def payload(i):
    """src/exchange.rs `payload`: (23 i) % SPAN bytes, byte j = 7 i + 13 j."""
    return bytes((i * 7 + j * 13) & 0xFF for j in range((i * 23) % SPAN))


def fail(what):
    print(f"FAIL: peer: {what}", flush=True)
    sys.exit(1)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def recv(self, sock, what, also=()):
        """The next message on `sock`, or fail once the deadline passes.

        The sockets in `also` are polled too: libzmq attaches a new
        connection to its socket (and a SUB sends its subscriptions) only
        inside a call on that socket, such as a poll."""
        poller = zmq.Poller()
        for s in (sock, *also):
            poller.register(s, zmq.POLLIN)
        while True:
            left = self.end - time.monotonic()
            if left <= 0:
                fail(f"timed out waiting for {what}")
            if sock in dict(poller.poll(int(left * 1000) + 1)):
                return sock.recv_multipart()


def connect(ctx, kind, port):
    s = ctx.socket(kind)
    s.linger = 2000
    # One connection only: a second would start a new ZMTP stream in the
    # middle of the UART's byte stream.
    s.reconnect_ivl = -1
    s.connect(f"tcp://127.0.0.1:{port}")
    return s


def show(msg):
    return [bytes(f[:24]) for f in msg]


def run_req(ctx, ports, count, deadline):
    if len(ports) != 1:
        fail("req takes one port")
    rep = connect(ctx, zmq.REP, ports[0])
    for i in range(count):
        request = deadline.recv(rep, f"request {i} of {count}")
        expected = [b"req", str(i).encode(), payload(i)]
        if request != expected:
            fail(f"request {i} is {show(request)}, expected {show(expected)}")
        rep.send_multipart([b"rep", str(i).encode(), payload(i)[::-1]])
    print(f"peer: REP served {count} requests, every one as expected", flush=True)
    rep.close()


def run_pubsub(ctx, ports, count, deadline):
    if len(ports) != 2:
        fail("pubsub takes two ports")
    # UART0 is the firmware's SUB: an XPUB, so that we see its
    # subscriptions arrive and publish only then (a PUB would drop what
    # it sends before, libzmq's slow joiner).
    xpub = connect(ctx, zmq.XPUB, ports[0])
    # UART1 is the firmware's PUB: we take everything it publishes.
    sub = connect(ctx, zmq.SUB, ports[1])
    sub.subscribe(b"")

    wanted = {b"\x01sensor/", b"\x01ctl/"}
    while wanted:
        (note,) = deadline.recv(
            xpub, f"the firmware's subscriptions {wanted}", also=[sub]
        )
        if note not in wanted:
            fail(f"unexpected subscription message {note!r}")
        wanted.discard(note)

    # Matching messages of 2 and 3 frames, each after two that must not
    # match "sensor/" or "ctl/": libzmq filters them if the subscriptions
    # arrived byte for byte; if one got through, the firmware would echo
    # it and the comparison below would fail.
    sent = []
    for i in range(count):
        n = str(i).encode()
        xpub.send_multipart([b"sensor", n, payload(i)])
        xpub.send_multipart([b"noise/" + n, payload(i)])
        msg = [b"sensor/temp", n] + ([payload(i)] if i % 4 else [])
        xpub.send_multipart(msg)
        sent.append(msg)
    for i, expected in enumerate(sent):
        echo = deadline.recv(sub, f"echo {i} of {count}")
        if echo != expected:
            fail(f"echo {i} is {show(echo)}, expected {show(expected)}")
    # Everything came back: tell the firmware, with the count, to finish.
    xpub.send_multipart([b"ctl/stop", str(count).encode()])
    print(f"peer: SUB got {count} echoes, every one as published", flush=True)
    xpub.close()
    sub.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["req", "pubsub"])
    ap.add_argument("ports", type=int, nargs="+")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--span", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    global SPAN
    SPAN = args.span
    ctx = zmq.Context()
    deadline = Deadline(args.timeout)
    if args.mode == "req":
        run_req(ctx, args.ports, args.count, deadline)
    else:
        run_pubsub(ctx, args.ports, args.count, deadline)
    ctx.term()


if __name__ == "__main__":
    main()
