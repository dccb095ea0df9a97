#!/usr/bin/env python3
"""Read an AttnScope session (.attnscope) outside the app.

A session is a safetensors file: the JSON manifest sits in the metadata under
"attnscope.manifest" and every panel's results are tensors named "<panel>/<name>"
(schema: docs/session-format.md).

    pip install safetensors numpy      # preferred path
    python3 docs/session-example.py run.attnscope

Without safetensors/numpy it falls back to a 20-line reader on the standard library (the
format is simple: u64 header length, JSON header, raw little-endian data), so the example
runs anywhere; tensors then come back as flat Python lists plus their shape.
"""
import json
import struct
import sys


def load(path):
    """Returns (manifest dict, {name: array}). Arrays are numpy arrays when safetensors is
    installed, else (flat list, shape) tuples."""
    try:
        from safetensors import safe_open  # noqa: F401
        from safetensors.numpy import load_file
    except ImportError:
        return load_stdlib(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    tensors = load_file(path)
    return check(meta), tensors


def load_stdlib(path):
    codes = {"F32": "f", "F64": "d", "I32": "i", "I64": "q", "U8": "B"}
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, t in header.items():
        lo, hi = t["data_offsets"]
        code = codes[t["dtype"]]
        count = (hi - lo) // struct.calcsize(code)
        tensors[name] = (list(struct.unpack_from("<%d%s" % (count, code), data, lo)), t["shape"])
    return check(meta), tensors


def check(meta):
    if meta.get("format") != "attnscope-session":
        raise ValueError("not an AttnScope session")
    return json.loads(meta["attnscope.manifest"])


def rows(array, shape):
    """Row r of a [R, C] table (stdlib path)."""
    cols = shape[1] if len(shape) > 1 else 1
    return [array[r * cols : (r + 1) * cols] for r in range(shape[0])]


def main(path):
    manifest, tensors = load(path)
    print("schema", manifest["schema_version"], "written by AttnScope", manifest["app"]["version"],
          "at", manifest["created"])
    model = manifest["model"]
    print("model", model["path"], "(%s), sha256 %s..." % (model["family"], model["sha256"][:16]))
    prompt = manifest["prompt"]
    print("prompt: %d tokens: %r" % (len(prompt["token_ids"]), prompt["text"][:60]))
    for panel, section in manifest["panels"].items():
        shapes = {n: d["shape"] for n, d in section["tensors"].items()}
        print("panel %-10s %d tensors %s" % (panel, len(shapes), ", ".join(sorted(shapes))[:90]))

    pieces = prompt["pieces"] or [str(i) for i in prompt["token_ids"]]
    numpy_arrays = not isinstance(next(iter(tensors.values()), ([], [])), tuple)

    def table(name):
        t = tensors[name]
        return (t.tolist(), list(t.shape)) if numpy_arrays else t

    if "sinks" in manifest["panels"]:
        # One row per sink token: token, id, class (1 primary, 2 secondary, 3 noise),
        # lifetime, creation layer, longest run, number of flagged layers.
        classes = {0: "none", 1: "primary", 2: "secondary", 3: "noise"}
        flat, shape = table("sinks/sinks.table")
        print("\nattention sinks (token, piece, class, creation layer, lifetime):")
        for row in (rows(flat, shape) if not numpy_arrays else flat):
            print("  %4d %-12r %-9s %2d %2d" % (row[0], pieces[row[0]], classes[row[2]], row[4], row[3]))
    if "weibull" in manifest["panels"]:
        section = manifest["panels"]["weibull"]
        cols = section["params"]["fit_columns"]
        flat, shape = table("weibull/fits.values")
        values = rows(flat, shape) if not numpy_arrays else flat
        k, r2 = cols.index("k"), cols.index("r2")
        print("\nWeibull fits (first 8 of %d):" % len(values))
        for m, v in list(zip(section["params"]["matrices"], values))[:8]:
            print("  %-45s k=%.4f R2=%.4f %s" % (m["name"], v[k], v[r2], m["cls"]))
    if "heads" in manifest["panels"]:
        flat, shape = table("heads/first_token")
        grid = rows(flat, shape) if not numpy_arrays else flat
        best = max((v, l, h) for l, row in enumerate(grid) for h, v in enumerate(row))
        print("\nstrongest first-token head: layer %d head %d (%.3f)" % (best[1], best[2], best[0]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: session-example.py FILE.attnscope")
    main(sys.argv[1])
