#!/usr/bin/env python3
"""check_deps.py MANIFEST README [--selftest]

The dependency check of the C libraries (ctest deps_check, deps_check_selftest).

MANIFEST is BUILD/deps-manifest.txt, written by CMake (cmake/sfp_deps.cmake): every C target with
its type, .c sources, direct links (link), consumer-visible links (ilink) and which library owns
each header (hdr). README is common/README.md: the table between <!-- deps:begin --> and
<!-- deps:end --> says, per library of common/, which libraries it may depend on and which
third-party libraries it may use.

Fails (exit 1, one line per violation) when
  - a library of common/ is missing from the table, or links a library the table does not allow;
  - any target's source (its .c, the header of the same name, the local headers they include)
    includes a header of a library the target does not link (directly or through a dependency's
    public links), or a third-party header whose library it does not link;
  - a quoted include names a header that no library owns.
--selftest: the check must pass on the tree as it is and catch each of a few injected
violations (a base module including a database header, a generic module including a generated
protobuf header, sfp_base linking libpq, a module including <curl/curl.h>).
"""
import os
import re
import sys

THIRD_PARTY = [  # #include <prefix...> -> imported target
    ("libpq-fe.h", "PkgConfig::PQ"), ("libpq-events.h", "PkgConfig::PQ"), ("grpc/", "PkgConfig::GRPC"),
    ("protobuf-c/", "PkgConfig::PROTOBUFC"), ("curl/", "PkgConfig::CURL"), ("cjson/", "PkgConfig::CJSON"),
    ("microhttpd.h", "PkgConfig::MHD"), ("openssl/", "PkgConfig::CRYPTO"), ("cmocka.h", "PkgConfig::CMOCKA"),
    ("xxhash.h", "PkgConfig::XXHASH"),
]
SHORT = {"PQ": "PkgConfig::PQ", "GRPC": "PkgConfig::GRPC", "PROTOBUFC": "PkgConfig::PROTOBUFC",
         "CURL": "PkgConfig::CURL", "CJSON": "PkgConfig::CJSON", "MHD": "PkgConfig::MHD",
         "CRYPTO": "PkgConfig::CRYPTO", "Threads": "Threads::Threads", "m": "m"}
INCLUDE = re.compile(r'^\s*#\s*include\s*(?:"([^"]+)"|<([^>]+)>)', re.M)


def read_manifest(path):
    m = {"type": {}, "src": {}, "link": {}, "ilink": {}, "hdr": {}}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            kind = parts[0]
            if kind == "target":
                m["type"][parts[1]] = parts[2]
                for k in ("src", "link", "ilink"):
                    m[k].setdefault(parts[1], [])
            elif kind in ("src", "link", "ilink"):
                m[kind].setdefault(parts[1], []).append(parts[2])
            elif kind == "hdr":
                owners = [] if parts[2] == "-" else parts[2].split(",")
                m["hdr"][parts[1]] = (owners, parts[3])
    return m


def read_table(path):
    text = open(path).read()
    mt = re.search(r"<!-- deps:begin -->(.*?)<!-- deps:end -->", text, re.S)
    if not mt:
        sys.exit(f"{path}: no <!-- deps:begin --> ... <!-- deps:end --> table")
    allowed = {}
    for row in mt.group(1).splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        lib = cells[0].strip("`")
        deps = set(re.findall(r"`([a-z_0-9]+)`", cells[1]))
        third = set()
        for t in re.findall(r"[A-Za-z]+", cells[2]):
            if t in SHORT:
                third.add(SHORT[t])
            elif t not in ("none",):
                sys.exit(f"{path}: unknown third-party name '{t}' in the row of {lib}")
        allowed[lib] = deps | third
    return allowed


def closure(m, tgt, cache):
    """What tgt may include from: itself, its direct links, and what they expose (ilink)."""
    if tgt in cache:
        return cache[tgt]
    seen = {tgt}
    todo = list(m["link"].get(tgt, [])) + list(m["ilink"].get(tgt, []))
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        todo.extend(m["ilink"].get(x, []))
    cache[tgt] = seen
    return seen


def owners_of(m, h, root):
    if h in m["hdr"]:
        return m["hdr"][h][0]
    if h.endswith(".pb-c.h"):
        base = h[: -len(".pb-c.h")]
        return ["sfp_test_proto"] if os.path.exists(os.path.join(root, "tests/proto", base + ".proto")) else ["sfp_proto"]
    return None


def check(m, allowed, root, inject_includes=None):
    errors = []
    cache = {}
    inject_includes = inject_includes or {}
    common = os.path.join(root, "common") + os.sep
    # 1. the libraries of common/ against the table
    for tgt, srcs in m["src"].items():
        if m["type"].get(tgt) == "STATIC_LIBRARY" and any(s.startswith(common) for s in srcs) and tgt not in allowed:
            errors.append(f"{tgt}: a library of common/ missing from the table in common/README.md")
    for lib, ok in allowed.items():
        if lib not in m["type"]:
            errors.append(f"{lib}: in the table of common/README.md but not a CMake target")
            continue
        for dep in set(m["link"].get(lib, [])) | set(m["ilink"].get(lib, [])):
            if dep not in ok:
                errors.append(f"{lib} links {dep}, which common/README.md does not allow")
    # 2. includes of every target against what it links
    for tgt, srcs in sorted(m["src"].items()):
        vis = closure(m, tgt, cache)
        files = []
        for s in srcs:
            files.append(s)
            h = s[:-2] + ".h"
            if os.path.exists(h):
                files.append(h)
        seen = set(files)
        while files:
            f = files.pop(0)
            try:
                text = open(f, errors="replace").read()
            except OSError as e:
                errors.append(f"{f}: {e}")
                continue
            incs = INCLUDE.findall(text) + [(h, "") for h in inject_includes.get(os.path.relpath(f, root), [])]
            rel = os.path.relpath(f, root)
            for quoted, angle in incs:
                if quoted:
                    own = owners_of(m, quoted, root)
                    if own:
                        if not any(o in vis for o in own):
                            errors.append(f"{rel}: includes \"{quoted}\" of {'/'.join(own)}, which {tgt} does not link")
                        continue
                    local = os.path.join(os.path.dirname(f), quoted)
                    if os.path.exists(local):
                        if local not in seen:
                            seen.add(local)
                            files.append(local)
                        continue
                    errors.append(f"{rel}: includes \"{quoted}\", which no library owns")
                else:
                    for prefix, imported in THIRD_PARTY:
                        if angle.startswith(prefix) and imported not in vis:
                            errors.append(f"{rel}: includes <{angle}> but {tgt} does not link {imported}")
    return errors


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    manifest, readme = args
    root = os.path.dirname(os.path.dirname(os.path.abspath(readme)))
    m = read_manifest(manifest)
    allowed = read_table(readme)
    errors = check(m, allowed, root)
    if "--selftest" not in sys.argv:
        for e in errors:
            print(e)
        print(f"deps_check: {len(m['src'])} targets, {len(allowed)} libraries in the table, {len(errors)} violations")
        return 1 if errors else 0
    if errors:
        print("selftest: the tree itself fails the check:\n  " + "\n  ".join(errors))
        return 1
    cases = [
        ("base includes a database header", {"common/buf.c": ["db_pool.h"]}, None),
        ("generic module includes a generated header", {"common/ttl_cache.c": ["sfpermits/v1/common.pb-c.h"]}, None),
        ("sfp_base links libpq", {}, ("sfp_base", "PkgConfig::PQ")),
        ("base includes <curl/curl.h>", {}, None),
    ]
    bad = 0
    for i, (what, inj, link) in enumerate(cases):
        mm = read_manifest(manifest)
        if link:
            mm["link"][link[0]].append(link[1])
        if i == 3:  # an angle include: written into a copy of a base header
            mm2 = mm
            fake = os.path.join(os.path.dirname(manifest), "deps-selftest-fake.h")
            with open(fake, "w") as f:
                f.write("#include <curl/curl.h>\n")
            mm2["src"]["sfp_base"] = mm2["src"]["sfp_base"] + [fake[:-2] + ".c"]
            with open(fake[:-2] + ".c", "w") as f:
                f.write('#include "deps-selftest-fake.h"\n')
            errs = check(mm2, allowed, root, inj)
            os.remove(fake)
            os.remove(fake[:-2] + ".c")
        else:
            errs = check(mm, allowed, root, inj)
        print(f"selftest: {what}: {'caught: ' + errs[0] if errs else 'NOT caught'}")
        bad += not errs
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
