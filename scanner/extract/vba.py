"""VBA macro source code from ``vbaProject.bin`` (DOCM, XLSM, PPTM and any package holding one).

Anyone who opens the file's macros (Alt+F11, or Developer > Macros > Edit) sees the module
source, so a key or a patient list pasted into a macro travels with the document. The
project is an OLE compound file whose module streams hold compressed source ([MS-OVBA]);
oletools' olevba reads it. Decompression is never written by hand here: a lenient
hand-written decompressor is exactly where a crafted stream would hide text from us.

Fail closed: a project olevba cannot read, a project without the streams a VBA project
must have, or a module whose source stream is missing is a ``DocProblem``, never silence.

Not read: the compiled p-code ("VBA stomping" leaves source and p-code different; what
Office shows then depends on the Office version) and UserForm designer storages (control
captions shown only when a macro runs). Excel 4 macro sheets are XML parts read with the
workbook's sheets.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

from scanner.extract.base import Context
from scanner.model import Event, Location
from scanner.ooxml.package import Package

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PROJECT_SUFFIX = "vbaproject.bin"


def vba_project_parts(pkg: Package, main: str) -> list[str]:
    """Part names of the package's VBA projects: any ``*vbaProject.bin`` and any vbaProject target.

    Office finds the project through the main part's vbaProject relationship, which may
    name any part; a part called vbaProject.bin anywhere is read too, since it travels
    with the file either way.
    """
    found: dict[str, str] = {}
    for target in pkg.related(main, "vbaproject"):
        info = pkg.info(target)
        if info is not None:
            found.setdefault(info.filename.lower(), info.filename)
    for name in sorted(pkg.names):
        if name.lower().endswith(_PROJECT_SUFFIX):
            found.setdefault(name.lower(), name)
    return list(found.values())


def iter_vba_projects(pkg: Package, ctx: Context, parts: list[str]) -> Iterator[Event]:
    """The VBA projects ``parts`` (from ``vba_project_parts``) as ``macro`` segments (or problems)."""
    for part in parts:
        yield from read_vba_project(pkg.read(part), part, ctx)


def read_vba_project(data: bytes, part: str, ctx: Context) -> Iterator[Event]:
    """Module source of one ``vbaProject.bin``: a segment per module, named by the module."""
    if not data.startswith(_OLE_MAGIC):
        yield ctx.problem(f"VBA project {part} is not an OLE compound file; its macros could not be read")
        return
    with warnings.catch_warnings():
        # olevba calls pyparsing's deprecated camelCase API at import: its noise, not the user's.
        warnings.simplefilter("ignore", DeprecationWarning)
        # deferred: start-up time (olevba and its imports cost ~70 ms), paid only by files with macros
        from oletools.olevba import VBA_Parser, VBA_Project  # type: ignore[import-untyped]

    try:
        parser = VBA_Parser(part, data=data, relaxed=True, disable_pcode=True)
    except Exception as exc:
        yield ctx.problem(f"VBA project {part} could not be read ({_why(exc)})")
        return
    try:
        projects = parser.find_vba_projects() if parser.ole_file is not None else None
        if not projects:
            yield ctx.problem(
                f"VBA project {part} is damaged or has no VBA storage with PROJECT and dir streams; macros not read"
            )
            return
        for root, project_path, dir_path in projects:
            yield from _project(VBA_Project, parser.ole_file, root, project_path, dir_path, part, ctx)
    finally:
        parser.close()


def _project(
    project_class: Any, ole: Any, root: str, project_path: str, dir_path: str, part: str, ctx: Context
) -> Iterator[Event]:
    where = f"{part}/{root}".rstrip("/")
    try:
        project = project_class(ole, root, project_path, dir_path, relaxed=True)
        project.parse_project_stream()
        if project.docstring and project.docstring.strip():
            yield ctx.segment(project.docstring.strip(), Location("macro", name="project description"))
        count = 0
        for _path, _filename, code in project.parse_modules():
            module = project.modules[-1]
            count += 1
            name = module.name or module.streamname or f"module {count}"
            if code is None:
                yield ctx.problem(f"VBA module {name} in {where}: source stream missing or empty; not read")
                continue
            if module.docstring and module.docstring.strip():
                yield ctx.segment(module.docstring.strip(), Location("macro", name=f"{name} description"))
            ctx.charge_expanded(len(code))
            yield from _chunks(code, name, ctx)
    except Exception as exc:  # olevba raises plain struct/index errors on a damaged dir stream
        yield ctx.problem(f"VBA project {where} could not be read ({_why(exc)})")


def _chunks(code: str, name: str, ctx: Context) -> Iterator[Event]:
    """A module's source as one segment, cut at line ends when it is longer than a text chunk."""
    size = ctx.limits.text_chunk_chars
    line = 1
    start = 0
    while start < len(code):
        end = len(code) if len(code) - start <= size else code.rfind("\n", start, start + size) + 1
        if end <= start:  # one enormous line
            end = start + size
        text = code[start:end]
        if text.strip():
            yield ctx.segment(text, Location("macro", name=name, line=line))
        line += text.count("\n")
        start = end


def _why(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    name = type(exc).__name__
    if name == "error":  # struct.error, olevba's usual way of meeting a short record
        name = f"{type(exc).__module__}.error"
    return f"{name}{': ' + msg if msg else ''}"
