#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0010-layers.sh -- the layering HACKING.md documents holds in the code:
# tests/layers.py reads the layer of every module from HACKING.md, the
# symbols of the built objects (nm src/*.o: who defines, who uses) and the
# #include lines of src/, and fails on an edge from a lower layer to a
# higher one or a cycle between files. The edges are in the log.
. "$(dirname "$0")/lib.sh"

need_cmd nm "$PYTHON"
"$PYTHON" "$TESTS_DIR/layers.py" --hacking "$abs_top_srcdir/HACKING.md" \
    --src "$abs_top_srcdir/src" --obj "$abs_top_builddir/src"
