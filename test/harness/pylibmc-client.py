#!/usr/bin/python3
"""pylibmc, driven by test/integration/foreign-values.test.ts through Debian's
system interpreter (python3-pylibmc). Reads one JSON request on stdin:

  {"servers": ["127.0.0.1:port", ...],
   "writes": [[key, kind, value], ...],   kind: text | int | bool | bytes (base64) | pickle (JSON, pickled by pylibmc)
   "reads": [key, ...],
   "decodeJson": false}                   true: read with README's deserialize() recipe for shardcache's JSON flag

and prints one JSON answer: {"reads": {key: {"type": ..., "value"/"base64": ...} | {"error": ...} | null}}.
The client places keys as libmemcached's weighted ketama does, as shardcache's
default ring does, so both sides find each key on the same server.
"""

import base64
import json
import sys

import pylibmc


JSON_FLAG = 0x10000


class JsonClient(pylibmc.Client):
    """README "Sharing a pool with other languages": pylibmc reading shardcache's JSON flag."""

    def deserialize(self, data, flags):
        return json.loads(data) if flags == JSON_FLAG else super().deserialize(data, flags)


def value_of(kind, value):
    if kind == "text":
        return value
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "pickle":
        return value  # a dict or list: pylibmc pickles what it has no flag for
    raise ValueError("unknown kind " + kind)


def describe(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, int):
        return {"type": "int", "value": str(value)}
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, bytes):
        return {"type": "bytes", "base64": base64.b64encode(value).decode("ascii")}
    return {"type": type(value).__name__, "repr": repr(value)}


def main():
    request = json.load(sys.stdin)
    kind = JsonClient if request.get("decodeJson") else pylibmc.Client
    client = kind(request["servers"], binary=False, behaviors={"ketama_weighted": True})
    for key, kind, value in request.get("writes", []):
        if not client.set(key, value_of(kind, value)):
            raise RuntimeError("pylibmc could not set " + key)
    reads = {}
    for key in request.get("reads", []):
        try:
            reads[key] = describe(client.get(key))
        except Exception as error:
            reads[key] = {"error": "%s: %s" % (type(error).__name__, error)}
    json.dump({"reads": reads}, sys.stdout)


if __name__ == "__main__":
    main()
