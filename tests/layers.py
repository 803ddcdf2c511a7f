#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# layers.py -- check that the code keeps the layers HACKING.md documents.
#
# HACKING.md lists every module of src/ (NAME.c and/or NAME.h) on a line
#     layer N  NAME NAME ...
# (lowest first). A module may use only modules of its own layer or below:
#   - symbols: what each built object src/NAME.o uses (nm: U) and which
#     object defines it (T, D, B, R, ...), i.e. the real calls and data;
#   - includes: each #include "NAME.h" of src/*.c and src/*.h.
# Within a layer, the symbol edges must not form a cycle between files.
#
# Prints TAP (four tests) with the layers and every symbol edge as
# diagnostics; exit status 0 when all pass. Run by tests/t0010-layers.sh
# (make check); by hand:
#     python3 tests/layers.py [--src DIR] [--obj DIR] [--hacking FILE]
import argparse
import collections
import glob
import os
import re
import subprocess
import sys

LAYER_LINE = re.compile(r"^ {4}layer (\d+)\s+(\S.*?)\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)\.h"')
DEFINED = set("TDBRCVWGS")	# nm types of a definition (global)


def read_layers(path):
    """{module: layer} from HACKING.md, and the problems found."""
    layers, problems = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = LAYER_LINE.match(line.rstrip("\n"))
            if not m:
                continue
            for name in m.group(2).split():
                if name in layers:
                    problems.append(f"{name} listed twice")
                layers[name] = int(m.group(1))
    if not layers:
        problems.append(f"no 'layer N  module...' lines in {path}")
    return layers, problems


def module_of_object(path):
    """src/util.o or src/libyubin_a-util.o (per-target flags) -> util"""
    base = os.path.basename(path)[:-2]
    return base.rsplit("-", 1)[-1]


def symbol_edges(objdir, nm):
    """{(from, to): set of symbols} from the objects' symbol tables."""
    defined, used = {}, collections.defaultdict(set)
    objects = sorted(glob.glob(os.path.join(objdir, "*.o")))
    for obj in objects:
        mod = module_of_object(obj)
        out = subprocess.run([nm, obj], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in DEFINED:
                defined.setdefault(f[2], mod)
            elif len(f) == 2 and f[0] == "U":
                used[mod].add(f[1])
    edges = collections.defaultdict(set)
    for mod, syms in used.items():
        for s in syms:
            to = defined.get(s)
            if to is not None and to != mod:
                edges[(mod, to)].add(s)
    return edges, {module_of_object(o) for o in objects}


def include_edges(srcdir):
    """{(from, to): set of 'file'} from the #include lines of src/."""
    edges = collections.defaultdict(set)
    modules = set()
    for path in sorted(glob.glob(os.path.join(srcdir, "*.[ch]"))):
        name = os.path.basename(path)
        mod = name[:-2]
        if mod == "autoconfig":
            continue
        modules.add(mod)
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = INCLUDE.match(line)
                if m and m.group(1) not in (mod, "autoconfig"):
                    edges[(mod, m.group(1))].add(name)
    return edges, modules


def cycles(edges, layers):
    """Strongly connected components of more than one module (Tarjan)."""
    graph = collections.defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def against(edges, layers):
    """Edges from a lower layer to a higher one: (from, to, what)."""
    bad = []
    for (a, b), what in sorted(edges.items()):
        if a in layers and b in layers and layers[a] < layers[b]:
            bad.append((a, b, what))
    return bad


def short(what, n=4):
    w = sorted(what)
    return ", ".join(w[:n]) + (f", ... ({len(w)})" if len(w) > n else "")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, good, desc, diag=()):
        self.n += 1
        if not good:
            self.failed += 1
        print(f"{'ok' if good else 'not ok'} {self.n} - {desc}")
        for line in diag:
            print(f"#   {line}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    top_src = os.environ.get("abs_top_srcdir", os.path.dirname(here))
    top_build = os.environ.get("abs_top_builddir", top_src)
    ap = argparse.ArgumentParser(description="check the layers of src/")
    ap.add_argument("--hacking", default=os.path.join(top_src, "HACKING.md"))
    ap.add_argument("--src", default=os.path.join(top_src, "src"))
    ap.add_argument("--obj", default=os.path.join(top_build, "src"))
    ap.add_argument("--nm", default=os.environ.get("NM", "nm"))
    o = ap.parse_args()

    layers, problems = read_layers(o.hacking)
    sym, objects = symbol_edges(o.obj, o.nm)
    inc, sources = include_edges(o.src)
    if not objects:
        print(f"1..0 # SKIP no objects in {o.obj} (build first)")
        return 0

    print("1..4")
    for n in sorted(set(layers.values())):
        print(f"# layer {n}: " + " ".join(sorted(m for m in layers
                                                 if layers[m] == n)))
    print("# symbol edges (who uses -> who defines: symbols):")
    for (a, b), what in sorted(sym.items(),
                               key=lambda e: (-layers.get(e[0][0], 99),
                                              e[0])):
        print(f"#   {a} ({layers.get(a, '?')}) -> {b} "
              f"({layers.get(b, '?')}): {short(what)}")

    tap = Tap()
    unranked = sorted((sources | objects) - set(layers))
    unknown = sorted(set(layers) - sources - objects)
    tap.result(not problems and not unranked and not unknown,
               "every module of src/ has one layer in HACKING.md",
               problems + [f"no layer: {m}" for m in unranked] +
               [f"listed but not in src/: {m}" for m in unknown])
    bad = against(sym, layers)
    tap.result(not bad, f"no call or data use against the layers "
               f"({len(sym)} symbol edges)",
               [f"{a} (layer {layers[a]}) uses {b} (layer {layers[b]}): "
                f"{short(w)}" for a, b, w in bad])
    bad = against(inc, layers)
    tap.result(not bad, f"no #include against the layers "
               f"({len(inc)} include edges)",
               [f"{short(w)} includes {b}.h (layer {layers[b]}; "
                f"{a} is in layer {layers[a]})" for a, b, w in bad])
    found = cycles(sym, layers)
    tap.result(not found, "no cycle between files (symbol edges)",
               [" <-> ".join(c) for c in found])
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
