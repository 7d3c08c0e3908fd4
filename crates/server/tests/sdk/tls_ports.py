"""Reaches caches over their TLS port (6380) with redis-py, as an
application would: ssl=True, the server's local CA, hostname checking on.

Each argument after the CA file is host=password; the script writes a key
through the first and reads it back through every other, then prints, per
host, the addresses its certificate names, as JSON.
"""

import json
import socket
import ssl
import sys
import time

import redis


def client(host, password):
    return redis.Redis(
        host=host,
        port=6380,
        password=password,
        ssl=True,
        ssl_ca_certs=CA,
        ssl_cert_reqs="required",
        ssl_check_hostname=True,
        socket_timeout=5,
    )


def names(host):
    context = ssl.create_default_context(cafile=CA)
    with socket.create_connection((host, 6380), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return [value for kind, value in tls.getpeercert()["subjectAltName"] if kind == "IP Address"]


CA = sys.argv[1]
targets = [arg.split("=", 1) for arg in sys.argv[2:]]
value = str(time.time())
first_host, first_password = targets[0]
client(first_host, first_password).set("tls:probe", value)
for host, password in targets[1:]:
    deadline = time.time() + 10
    while True:
        try:
            if client(host, password).get("tls:probe") == value.encode():
                break
        except redis.ResponseError:
            pass  # A replica still catching up answers MASTERDOWN or LOADING.
        if time.time() > deadline:
            sys.exit(f"{host} never served the value written through {first_host}")
        time.sleep(0.05)
print(json.dumps({host: names(host) for host, _ in targets}))
