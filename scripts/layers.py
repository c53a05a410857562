#!/usr/bin/env python3
"""Checks that every #include in src/ and include/seam/ points the way the
layers allow (docs/architecture.md "Layers", docs/card.md "Structure").

Each file belongs to a node: a layer of libseam (a folder of src/ and its
public header in include/seam/) or, inside the card layer, one of the card's
folders. A node may include its own files, and files of the nodes it uses,
directly or through others; nothing else. A layer's private headers are its
own: another layer reaches it through include/seam/ only.

    scripts/layers.py [--graph] [ROOT]

Prints one line per include that points the wrong way and exits 1 when there
is any; --graph prints the arrows found (node -> node: includes). Python 3
standard library only; reads each file once.
"""

import os
import re
import sys

# The layers of libseam and the layers each uses (docs/architecture.md).
LAYERS = {
    "util": [],
    "crypto": ["util"],
    "nvm": ["util", "crypto"],
    "wasm": ["util"],
    "wasi": ["util", "wasm"],
    "gp": ["util", "crypto", "wasm"],
    "card": ["util", "crypto", "nvm", "wasm"],
    "link": ["util", "gp", "card"],
    "sync": ["util"],
    "syncml": ["util"],
    "perso": ["util", "crypto", "gp"],
    "terminal": ["util", "crypto", "gp", "link", "sync", "syncml", "perso"],
    "server": ["util", "crypto", "gp", "sync", "syncml", "perso"],
    "flashcard": ["util", "crypto", "gp", "link", "perso"],
    "cli": ["util", "crypto", "nvm", "wasm", "wasi", "gp", "card", "link", "sync", "syncml", "perso",
            "terminal", "server", "flashcard"],
}

# Public headers that are not named after their layer.
HEADER_LAYER = {"errors.h": "util", "applet.h": "card", "toolkit.h": "util"}

# The card's folders, bottom up, and what each uses (docs/card.md "Structure").
# "hub" is src/card/card_int.h alone; "top" the other files of src/card/.
CARD = {
    "iso": [],
    "sm": ["iso"],
    "applet": ["iso"],
    "store": ["sm", "applet"],
    "hub": ["store"],
    "content": ["hub"],
    "restore": ["content"],
    "upgrade": ["restore"],
    "gp": ["upgrade"],
    "toolkit": ["content"],
    "top": ["gp", "toolkit"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def closure(uses):
    """Every node each node may reach, itself included."""
    reach = {}

    def visit(node, seen):
        for used in uses[node]:
            if used not in seen:
                seen.add(used)
                visit(used, seen)
        return seen

    for node in uses:
        reach[node] = visit(node, {node})
    return reach


LAYER_REACH = closure(LAYERS)
CARD_REACH = closure(CARD)


def node_of(path):
    """(layer, card folder or None, public) for a file under src/ or include/seam/."""
    parts = path.split("/")
    if parts[0] == "include":
        name = parts[-1]
        return HEADER_LAYER.get(name, name[:-2]), None, True
    layer = parts[1]
    folder = None
    if layer == "card":
        if len(parts) > 3:
            folder = parts[2]
        else:
            folder = "hub" if parts[2] == "card_int.h" else "top"
    return layer, folder, False


def resolve(root, including, target):
    """The included file, relative to root, as the compiler finds it; None if outside."""
    for base in (os.path.dirname(including), "src", "include"):
        candidate = os.path.normpath(os.path.join(base, target))
        if os.path.isfile(os.path.join(root, candidate)):
            return candidate
    return None


def sources(root):
    for top in ("src", "include/seam"):
        for folder, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if name.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(folder, name), root)


def main(argv):
    graph = "--graph" in argv
    args = [a for a in argv if a != "--graph"]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    wrong, arrows, files = [], {}, 0
    for path in sorted(sources(root)):
        files += 1
        layer, folder, _ = node_of(path)
        if layer not in LAYERS or (folder and folder not in CARD):
            wrong.append(f"{path}: in no known layer or card folder (scripts/layers.py)")
            continue
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = f.read()
        for match in INCLUDE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            target = resolve(root, path, match.group(1))
            if target is None:
                wrong.append(f"{path}:{line}: \"{match.group(1)}\" is not a file of seam")
                continue
            to_layer, to_folder, public = node_of(target)
            here = f"card/{folder}" if folder else layer
            there = f"card/{to_folder}" if to_folder else to_layer
            if layer == to_layer and folder and to_folder:
                ok = to_folder in CARD_REACH[folder]
            elif layer == to_layer:
                ok = True
            else:
                ok = public and to_layer in LAYER_REACH[layer]
            if here != there:
                arrows[(here, there)] = arrows.get((here, there), 0) + 1
            if not ok:
                why = "a private header of another layer" if not public and layer != to_layer \
                    else f"{here} may not use {there}"
                wrong.append(f"{path}:{line}: includes {target}: {why}")
    if graph:
        for (here, there), count in sorted(arrows.items()):
            print(f"{here} -> {there}: {count}")
    for w in wrong:
        print(w)
    if wrong:
        print(f"layers: {len(wrong)} include(s) point the wrong way "
              "(docs/architecture.md, docs/card.md \"Structure\")")
        return 1
    print(f"layers: {files} files, {len(arrows)} arrows between layers and card folders, "
          "all pointing the allowed way")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
