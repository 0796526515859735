"""Check a `sam build` output for its Lambda runtime and architecture, and print its sizes.

`make build` runs it after `sam build`, with the SAM venv's Python (it has PyYAML):

    .venv-sam/bin/python scripts/check_sam_build.py [.aws-sam/build] [template.yaml]

Read from the built template: every layer and function, their runtime (python3.12) and
architecture (arm64). It fails (exit 1) unless
- each layer has python/, every requirements.txt pin of its source directory installed at that
  version, every extension module an ELF for the architecture tagged for that CPython (or abi3),
  every wheel tagged for that Python and a manylinux platform of the architecture (or any), and
  no bytecode of another Python;
- each function's CodeUri holds its handler module, defining the handler;
- every import in the functions and in the layers' packages (except under TYPE_CHECKING or
  inside try/except ImportError) resolves to the function, a layer, the standard library of
  that Python, or what the Lambda Python runtime provides (boto3 and its dependencies);
- each function with its layers is within Lambda's unzipped limit (250 MB).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

LIMIT_BYTES = 262_144_000  # Lambda: function + all its layers, unzipped
ELF_MACHINES = {"arm64": ("aarch64", 183), "x86_64": ("x86_64", 62)}
# In the Lambda Python runtimes besides the standard library (the SDK and what it needs).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"}
# In sys.stdlib_module_names before 3.12, gone in 3.12.
REMOVED_IN_312 = {"distutils", "imp", "asynchat", "asyncore", "smtpd"}


class _Loader(yaml.SafeLoader):
    """The built template has no short-form intrinsics, but a hand-written one might."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}


_Loader.add_multi_constructor("!", _intrinsic)


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=_Loader)  # a SafeLoader
    return loaded


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def human(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**17 else f"{n / 2**10:.1f} KiB"


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: Path) -> dict[str, str]:
    out = {}
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;]+).*", line)
        if m:
            out[norm(m.group(1))] = m.group(2)
    return out


def elf_machine(path: Path) -> int | None:
    with path.open("rb") as fh:
        head = fh.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


def check_layer_python(
    name: str, python_dir: Path, requirements: Path | None, cp: str, arch: str
) -> list[str]:
    """Problems of a layer's python/ for CPython `cp` (e.g. '312') on `arch` (template name)."""
    problems = []
    machine_name, machine = ELF_MACHINES[arch]
    dists = {}
    for info in python_dir.glob("*.dist-info"):
        dist, _, version = info.name[: -len(".dist-info")].partition("-")
        dists[norm(dist)] = version
        wheel = info / "WHEEL"
        tags = [
            line.split(":", 1)[1].strip()
            for line in (wheel.read_text(encoding="utf-8").splitlines() if wheel.exists() else [])
            if line.startswith("Tag:")
        ]
        for tag in tags:
            py, abi, plat = tag.split("-")
            ok_py = py in {"py3", "py2.py3"} or (py.startswith("py3") and abi == "none")
            if py.startswith("cp"):
                ok_py = py == f"cp{cp}" or (abi == "abi3" and int(py[2:]) <= int(cp))
            ok_plat = plat == "any" or (
                plat.startswith("manylinux") and plat.endswith(machine_name)
            )
            if not (ok_py and ok_plat) and not (py == "py2" and plat == "any"):
                problems.append(f"{name}: {info.name} is tagged {tag}")
    if requirements is not None:
        for dist, version in pins(requirements).items():
            if dists.get(dist) != version:
                got = dists.get(dist, "missing")
                problems.append(f"{name}: {dist}=={version} pinned, layer has {got}")
    extensions = 0
    for so in python_dir.rglob("*.so*"):
        if not so.is_file():
            continue
        found = elf_machine(so)
        if found is None:
            continue
        extensions += 1
        rel = so.relative_to(python_dir)
        if found != machine:
            problems.append(f"{name}: {rel} is ELF machine {found}, not {machine_name}")
        tag = re.search(r"\.cpython-(\d+)-([^.]+)\.so$", so.name)
        if tag and (tag.group(1) != cp or machine_name not in tag.group(2)):
            problems.append(f"{name}: {rel} is built for cpython-{tag.group(1)}-{tag.group(2)}")
    for pyc in python_dir.rglob("*.pyc"):
        if f".cpython-{cp}." not in pyc.name:
            problems.append(f"{name}: {pyc.relative_to(python_dir)} is bytecode of another Python")
    if extensions == 0 and any(norm(d) == "pydantic-core" for d in dists):
        problems.append(f"{name}: no extension module found")
    return problems


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports run at import time or later, less TYPE_CHECKING and guarded ones."""

    def skip_if(node: ast.If) -> bool:
        test = node.test
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )

    def guarded(node: ast.Try) -> bool:
        for handler in node.handlers:
            names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if any(
                isinstance(n, ast.Name) and n.id in {"ImportError", "ModuleNotFoundError"}
                for n in names
            ):
                return True
        return False

    def walk(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            elif isinstance(child, ast.If) and skip_if(child):
                for sub in child.orelse:
                    yield from walk(ast.Module(body=[sub], type_ignores=[]))
            elif isinstance(child, ast.Try) and guarded(child):
                for part in (*child.handlers, *child.orelse, *child.finalbody):
                    yield from walk(part)
            else:
                yield from walk(child)

    yield from walk(tree)


def _module_exists(dotted: str, roots: list[Path]) -> bool:
    parts = dotted.split(".")
    for root in roots:
        base = root.joinpath(*parts)
        if (base / "__init__.py").exists() or base.with_suffix(".py").exists():
            return True
        if len(parts) == 1 and (base.is_dir() or any(root.glob(f"{parts[0]}.*.so"))):
            return True  # a namespace package or a top-level extension module
    return False


def check_imports(
    label: str, files: list[tuple[Path, str]], roots: list[Path], stdlib: set[str]
) -> list[str]:
    """files: (path, its dotted module name); roots: the directories on sys.path."""
    problems = []
    for path, module in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _imports(tree):
            targets: list[str]
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join([*base, node.module] if node.module else base)
                # `from . import x`: x is a submodule or a name in the package
                targets = [stem]
            else:
                targets = [node.module or ""]
            for target in targets:
                top = target.split(".")[0]
                if top in stdlib or top in RUNTIME_PROVIDED or top == "__future__":
                    continue
                if not _module_exists(target, roots):
                    problems.append(f"{label}: {path.name} imports {target}, not in the build")
    return problems


def package_files(python_dir: Path) -> list[tuple[Path, str]]:
    """The first-party packages of a layer: those without a .dist-info (copied, not installed)."""
    installed = set()
    for record in python_dir.glob("*.dist-info/RECORD"):
        for line in record.read_text(encoding="utf-8").splitlines():
            installed.add(line.split("/", 1)[0].split(",", 1)[0])
    out = []
    for pkg in sorted(python_dir.iterdir()):
        if pkg.is_dir() and pkg.name not in installed and (pkg / "__init__.py").exists():
            for py in sorted(pkg.rglob("*.py")):
                rel = py.relative_to(python_dir).with_suffix("")
                out.append((py, ".".join(rel.parts).removesuffix(".__init__")))
    return out


def main(argv: list[str]) -> int:
    build = Path(argv[1] if len(argv) > 1 else ".aws-sam/build")
    source = Path(argv[2] if len(argv) > 2 else "template.yaml")
    built = load(build / "template.yaml")
    src_resources = load(source)["Resources"] if source.exists() else {}
    resources: dict[str, Any] = built["Resources"]
    fn_globals = built.get("Globals", {}).get("Function", {})
    problems: list[str] = []

    functions = {}
    for logical, res in resources.items():
        if res["Type"] == "AWS::Serverless::Function":
            props = {**fn_globals, **res.get("Properties", {})}
            functions[logical] = props
    targets = {
        (p.get("Runtime"), tuple(p.get("Architectures", ["x86_64"]))) for p in functions.values()
    }
    if len(targets) != 1:
        print(f"functions have several runtimes/architectures: {sorted(targets)}")
        return 1
    runtime, (arch,) = targets.pop()
    m = re.fullmatch(r"python3\.(\d+)", runtime or "")
    if not m:
        print(f"not a Python runtime: {runtime}")
        return 1
    cp = f"3{m.group(1)}"
    stdlib = set(sys.stdlib_module_names) - (REMOVED_IN_312 if int(cp) >= 312 else set())
    print(f"sam build check: {build} for {runtime} / {arch}")

    layer_sizes: dict[str, int] = {}
    layer_roots: dict[str, Path] = {}
    for logical, res in resources.items():
        if res["Type"] != "AWS::Serverless::LayerVersion":
            continue
        content = build / res["Properties"]["ContentUri"]
        python_dir = content / "python"
        if not python_dir.is_dir():
            problems.append(f"{logical}: no python/ in {content}")
            continue
        src_uri = src_resources.get(logical, {}).get("Properties", {}).get("ContentUri")
        requirements = source.parent / src_uri / "requirements.txt" if src_uri else None
        if requirements is not None and not requirements.exists():
            requirements = None
        problems += check_layer_python(logical, python_dir, requirements, cp, arch)
        layer_sizes[logical] = tree_size(content)
        layer_roots[logical] = python_dir
        sos = sorted(
            p.relative_to(python_dir).as_posix()
            for p in python_dir.rglob("*.so")
            if elf_machine(p) is not None
        )
        firsts = sorted({module.split(".")[0] for _, module in package_files(python_dir)})
        dists = len(list(python_dir.glob("*.dist-info")))
        print(
            f"  layer    {logical:24} {human(layer_sizes[logical]):>9}  python/: "
            f"{', '.join(firsts) or 'no first-party package'} + {dists} distributions"
        )
        for so in sos:
            print(f"           {'':24} {'':>9}    {so}")

    for logical, python_dir in layer_roots.items():
        problems += check_imports(logical, package_files(python_dir), [python_dir], stdlib)

    worst = ("", 0)
    for logical, props in functions.items():
        code = build / props["CodeUri"]
        module, _, handler = str(props.get("Handler", "")).rpartition(".")
        app = code / f"{module.replace('.', '/')}.py"
        if not app.exists():
            problems.append(f"{logical}: no {app.name} in {code}")
            continue
        tree = ast.parse(app.read_text(encoding="utf-8"))
        if not any(isinstance(n, ast.FunctionDef) and n.name == handler for n in tree.body):
            problems.append(f"{logical}: {app.name} defines no {handler}")
        refs = [ref.get("Ref") for ref in props.get("Layers", []) if isinstance(ref, dict)]
        roots = [code, *(layer_roots[r] for r in refs if r in layer_roots)]
        files = [
            (py, py.relative_to(code).with_suffix("").as_posix().replace("/", "."))
            for py in sorted(code.rglob("*.py"))
        ]
        problems += check_imports(logical, files, roots, stdlib)
        own = tree_size(code)
        total = own + sum(layer_sizes.get(r, 0) for r in refs)
        names = ", ".join(sorted(p.name for p in code.iterdir()))
        print(f"  function {logical:24} {human(own):>9}  {names}  (+ layers: {human(total)})")
        if total > worst[1]:
            worst = (logical, total)
        if total > LIMIT_BYTES:
            problems.append(
                f"{logical}: {total:,} bytes unzipped with its layers > {LIMIT_BYTES:,}"
            )

    print(
        f"  largest unzipped function + layers: {worst[0]} {human(worst[1])} "
        f"of {human(LIMIT_BYTES)} ({worst[1]:,} / {LIMIT_BYTES:,} bytes)"
    )
    for problem in problems:
        print(f"  PROBLEM {problem}")
    print("sam build check: " + (f"{len(problems)} problem(s)" if problems else "OK"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
