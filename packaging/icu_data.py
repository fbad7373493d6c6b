"""Trims the ICU data library Qt links on Linux to the data Qt asks ICU for (``make package``).

PySide6's Linux wheels carry ``libicudata.so.NN``: one read-only symbol, ``icudtNN_dat``, holding an ICU
"common data" package — a table of contents and every item (locale data, collation, converters, time
zones, break-iterator dictionaries, unit and currency names, transliterators...). Qt calls ICU only for
collation (``QCollator``), locale case mapping, text codecs (``QStringConverter``) and time-zone ids and
names (``QTimeZone``). :data:`UNUSED_FAMILIES` are item folders none of those reads; the package is
rewritten without them and wrapped in a new library with the same name, soname and symbol by binutils'
``as`` and ``ld``. Every other item is copied byte for byte.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Item folders of the ICU data package that nothing Qt calls reads, with what they hold.
UNUSED_FAMILIES = {
    "brkitr": "break-iterator rules and dictionaries (Qt finds word and line breaks with its own tables)",
    "unit": "measurement-unit names (ICU's MeasureFormat)",
    "curr": "currency names (ICU's number formatting; QLocale has its own)",
    "lang": "language and script display names (QLocale has its own)",
    "translit": "transliteration rules",
    "rbnf": "spelled-out number rules",
}
COMMON_DATA_FORMAT = b"CmnD"
ALIGNMENT = 16


class IcuDataError(Exception):
    pass


def split_package(package: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The package's header and its items (name, bytes up to the next item), in table-of-contents order."""
    header_size = struct.unpack_from("<H", package, 0)[0]
    if package[2:4] != b"\xda\x27" or package[12:16] != COMMON_DATA_FORMAT:
        raise IcuDataError("not an ICU common data package")
    (count,) = struct.unpack_from("<I", package, header_size)
    entries = [struct.unpack_from("<II", package, header_size + 4 + 8 * index) for index in range(count)]
    items = []
    for index, (name_offset, data_offset) in enumerate(entries):
        name_start = header_size + name_offset
        name = package[name_start : package.index(b"\0", name_start)].decode("ascii")
        end = entries[index + 1][1] if index + 1 < count else len(package) - header_size
        items.append((name, package[header_size + data_offset : header_size + end]))
    return package[:header_size], items


def join_package(header: bytes, items: Sequence[tuple[str, bytes]]) -> bytes:
    """A package of ``items`` (kept in the given, sorted order: ICU looks names up by binary search)."""
    names = b""
    name_offsets = []
    toc_size = 4 + 8 * len(items)
    for name, _data in items:
        name_offsets.append(toc_size + len(names))
        names += name.encode("ascii") + b"\0"
    first = toc_size + len(names)
    first += -(len(header) + first) % ALIGNMENT
    body = bytearray()
    data_offsets = []
    for _name, data in items:
        data_offsets.append(first + len(body))
        body += data + b"\0" * (-len(data) % ALIGNMENT)
    toc = bytearray(struct.pack("<I", len(items)))
    for name_offset, data_offset in zip(name_offsets, data_offsets, strict=True):
        toc += struct.pack("<II", name_offset, data_offset)
    toc += names
    toc += b"\0" * (first - len(toc))
    return header + bytes(toc) + bytes(body)


def without_families(package: bytes, families: Iterable[str]) -> bytes:
    header, items = split_package(package)
    dropped = tuple(f"/{family}/" for family in families)
    return join_package(header, [(name, data) for name, data in items if not any(part in name for part in dropped)])


def _readelf(library: Path, *options: str) -> str:
    return subprocess.run(["readelf", "-W", *options, str(library)], capture_output=True, text=True, check=True).stdout


def read_package(library: Path) -> tuple[str, bytes]:
    """The data symbol's name and bytes from an ICU data library."""
    symbols = _readelf(library, "--dyn-syms")
    symbol = re.search(r"\s([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s+GLOBAL\s+DEFAULT\s+\d+\s+(icudt\d+_dat)\b", symbols)
    if symbol is None:
        raise IcuDataError(f"{library.name} has no icudtNN_dat symbol")
    address, size, name = int(symbol[1], 16), int(symbol[2], 0), symbol[3]
    for line in _readelf(library, "-S").splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 4 and fields[1] == ".rodata":
            section_address, section_offset = int(fields[3], 16), int(fields[4], 16)
            start = address - section_address + section_offset
            return name, library.read_bytes()[start : start + size]
    raise IcuDataError(f"{library.name} has no .rodata section")


def write_library(target: Path, symbol: str, package: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "data.bin").write_bytes(package)
        (work / "data.s").write_text(
            f'.section .rodata\n.globl {symbol}\n.type {symbol}, @object\n.balign {ALIGNMENT}\n{symbol}:\n'
            f'.incbin "{work / "data.bin"}"\n.size {symbol}, . - {symbol}\n.section .note.GNU-stack,"",@progbits\n',
            encoding="ascii",
        )
        subprocess.run(["as", "-o", str(work / "data.o"), str(work / "data.s")], check=True)
        built = work / target.name
        subprocess.run(["ld", "-shared", "-soname", target.name, "-o", str(built), str(work / "data.o")], check=True)
        shutil.copyfile(built, target)


def trim_library(library: Path) -> tuple[int, int]:
    """Rewrite ``library`` without :data:`UNUSED_FAMILIES`; returns its size before and after."""
    before = library.stat().st_size
    symbol, package = read_package(library)
    write_library(library, symbol, without_families(package, UNUSED_FAMILIES))
    return before, library.stat().st_size


def tools_missing() -> list[str]:
    return [tool for tool in ("readelf", "as", "ld") if shutil.which(tool) is None]
