"""A libzmq CURVE peer (through pyzmq) for tests/curve_interop.rs.

    curve_peer.py server ALLOW       ROUTER, CURVE server on an ephemeral port;
                                     ALLOW is 'any' or the one client key (Z85)
                                     its ZAP handler accepts
    curve_peer.py client PORT KEYS   DEALER, CURVE client of 127.0.0.1:PORT;
                                     KEYS 'good' (libzmq's test client keys,
                                     the right server key), 'stranger' (a new
                                     client key pair) or 'wrong-server' (a
                                     server key that is not ours)

Reports on stdout, one line each: 'PORT n', 'KEY <z85>' (each client key
the ZAP handler was asked about), 'EVENT <name> <value>' (handshake monitor
events), 'GOT <hex frames>' and 'OK' / 'FAIL <why>'. The server echoes each
message as [routing id, b'echo', frames...] and exits after b'bye'; the
client sends the messages below, checks every echo, sends b'bye'. Either
exits after a handshake failure event. Exit status 0 unless FAIL.
"""

import sys
import time

import zmq
import zmq.auth.thread
from zmq.utils.monitor import recv_monitor_message

# libzmq's documented test keys (zmq_curve(7), testutil_security.cpp).
CLIENT_PUBLIC = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
CLIENT_SECRET = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
SERVER_PUBLIC = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
SERVER_SECRET = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"

DEADLINE_S = 20

# Messages the client sends: sizes around the short / long frame boundary
# and a multipart one; our server echoes them.
MESSAGES = [
    [b"hello"],
    [b""],
    [b"x" * 255],
    [b"y" * 256],
    [bytes(range(256)) * 8],
    [b"multi", b"", b"part" * 100],
] + [[b"seq %d" % i] for i in range(100)]

EVENTS = {
    zmq.EVENT_HANDSHAKE_SUCCEEDED: "SUCCEEDED",
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "FAILED_AUTH",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "FAILED_PROTOCOL",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "FAILED_NO_DETAIL",
    zmq.EVENT_DISCONNECTED: "DISCONNECTED",
}


def say(*words):
    print(*words, flush=True)


def hexes(frames):
    return " ".join(f.hex() if f else "-" for f in frames)


class AllowOne:
    def __init__(self, allowed):
        self.allowed = allowed

    def callback(self, domain, key):
        say("KEY", key.decode())
        return self.allowed in (b"any", key)


def monitor_event(mon):
    """Reports a handshake event; True if it ends the run."""
    ev = recv_monitor_message(mon)
    name = EVENTS.get(ev["event"])
    if name is None:
        return False
    say("EVENT", name, ev["value"])
    return name != "SUCCEEDED"


def server(allow):
    ctx = zmq.Context()
    auth = zmq.auth.thread.ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve_callback("*", AllowOne(allow.encode()))
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 1000
    sock.curve_server = True
    sock.curve_secretkey = SERVER_SECRET
    sock.curve_publickey = SERVER_PUBLIC
    mon = sock.get_monitor_socket()
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    say("PORT", port)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    poller.register(mon, zmq.POLLIN)
    end = time.time() + DEADLINE_S
    while time.time() < end:
        ready = dict(poller.poll(100))
        if mon in ready and monitor_event(mon):
            break
        if sock in ready:
            frames = sock.recv_multipart()
            ident, body = frames[0], frames[1:]
            say("GOT", hexes(body))
            sock.send_multipart([ident, b"echo"] + body)
            if body == [b"bye"]:
                break
    else:
        say("FAIL deadline")
        sys.exit(1)
    # The last echo goes out before the context ends (linger).
    sock.close()
    mon.close()
    auth.stop()
    ctx.term()
    say("OK")


def client(port, keys):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 1000
    if keys == "stranger":
        public, secret = zmq.curve_keypair()
    else:
        public, secret = CLIENT_PUBLIC, CLIENT_SECRET
    sock.curve_publickey = public
    sock.curve_secretkey = secret
    if keys == "wrong-server":
        sock.curve_serverkey = zmq.curve_keypair()[0]
    else:
        sock.curve_serverkey = SERVER_PUBLIC
    mon = sock.get_monitor_socket()
    sock.connect("tcp://127.0.0.1:%d" % port)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    poller.register(mon, zmq.POLLIN)
    end = time.time() + DEADLINE_S
    pending = MESSAGES + [[b"bye"]]
    for m in pending:
        sock.send_multipart(m)
    expected = list(pending)
    while expected and time.time() < end:
        ready = dict(poller.poll(100))
        if mon in ready and monitor_event(mon):
            return
        if sock in ready:
            got = sock.recv_multipart()
            want = [b"echo"] + expected.pop(0)
            if got != want:
                say("FAIL echo", hexes(got), "for", hexes(want))
                sys.exit(1)
    if expected:
        say("FAIL deadline with", len(expected), "echoes missing")
        sys.exit(1)
    sock.close()
    mon.close()
    ctx.term()
    say("OK")


def main():
    if sys.argv[1] == "server":
        server(sys.argv[2])
    else:
        client(int(sys.argv[2]), sys.argv[3])


if __name__ == "__main__":
    main()
