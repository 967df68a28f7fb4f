"""Findings kept in a temporary file, a chunk per plan, so a batch holds one plan's findings at a time."""

from __future__ import annotations

import contextlib
import marshal
import tempfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

from tfgen.errors import TfgenError
from tfgen.model import Finding, Kind, SourceLocation, Waiver, kind


class FindingSpool(Sequence[Finding]):
    """Findings in an anonymous temporary file (mode 0600, never linked into a directory, gone when
    closed or when the process ends): one compressed record per run of one plan's findings. Only
    the chunk index and the counts stay in memory."""

    def __init__(self, findings: Iterable[Finding] = ()) -> None:
        with _disk():
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the spool)
        # Per chunk: its plan path and where it starts; it ends where the next one starts.
        self._plans: list[str] = []
        self._starts = array("q", [0])
        self._count = 0
        self._tally: dict[Kind, int] = {}
        self.add(findings)

    def add(self, findings: Iterable[Finding]) -> None:
        """Append findings; each run of consecutive findings of one plan becomes one chunk."""
        run: list[Finding] = []
        for finding in findings:
            if run and finding.plan != run[0].plan:
                self._write(run)
                run = []
            run.append(finding)
        if run:
            self._write(run)

    def _write(self, run: list[Finding]) -> None:
        # Compressed (10x on a batch's findings, in ~0.5 us per finding): on a tmpfs /tmp the
        # spool is memory too.
        data = zlib.compress(marshal.dumps([_record(f) for f in run]), 1)
        with _disk():
            self._file.seek(self._starts[-1])
            self._file.write(data)
        self._plans.append(run[0].plan)
        self._starts.append(self._starts[-1] + len(data))
        self._count += len(run)
        for finding in run:
            key = kind(finding)
            self._tally[key] = self._tally.get(key, 0) + 1

    def _read(self, index: int) -> list[Finding]:
        start, end = self._starts[index], self._starts[index + 1]
        with _disk():
            self._file.seek(start)
            data = self._file.read(end - start)
        # Only what _write put in this process's own unlinked file is read back.
        records = marshal.loads(zlib.decompress(data))  # noqa: S302
        return [_finding(record, self._plans[index]) for record in records]

    def chunks(self) -> Iterator[list[Finding]]:
        """The findings chunk by chunk, in the order they were added."""
        for index in range(len(self._plans)):
            yield self._read(index)

    def groups(self) -> Iterator[tuple[str, list[Finding]]]:
        """Per plan path, in path order: its findings in the order they were added."""
        indices: dict[str, list[int]] = {}
        for index, plan in enumerate(self._plans):
            indices.setdefault(plan, []).append(index)
        for plan in sorted(indices):
            yield plan, [f for index in indices[plan] for f in self._read(index)]

    def plans(self) -> set[str]:
        """The plan paths that have findings."""
        return set(self._plans)

    def tally(self) -> dict[Kind, int]:
        return dict(self._tally)

    def close(self) -> None:
        self._file.close()

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Finding]:
        for chunk in self.chunks():
            yield from chunk

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Finding, ...]: ...
    def __getitem__(self, index: int | slice) -> Finding | tuple[Finding, ...]:
        return tuple(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable: findings can be added

    def __repr__(self) -> str:
        return f"FindingSpool({self._count} findings in {len(self._plans)} chunks)"


@contextlib.contextmanager
def _disk() -> Iterator[None]:
    """A full or missing temporary directory is an error to report, not a crash."""
    try:
        yield
    except OSError as exc:
        raise TfgenError(
            f"cannot keep findings in a temporary file ({exc.strerror or exc})"
        ) from exc


def transform(
    findings: Sequence[Finding], change: Callable[[list[Finding]], Iterable[Finding]]
) -> Sequence[Finding]:
    """`change` applied chunk by chunk: a spool gives a new spool, anything else a tuple."""
    if isinstance(findings, FindingSpool):
        out = FindingSpool()
        for chunk in findings.chunks():
            out.add(change(chunk))
        return out
    return tuple(change(list(findings)))


def by_plan(findings: Sequence[Finding]) -> Iterator[tuple[str, list[Finding]]]:
    """Per plan path, in path order: its findings in their order in `findings`."""
    if isinstance(findings, FindingSpool):
        yield from findings.groups()
        return
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.plan, []).append(finding)
    for plan in sorted(groups):
        yield plan, groups[plan]


def plans_with_findings(findings: Sequence[Finding]) -> set[str]:
    """The plan paths that have at least one finding."""
    if isinstance(findings, FindingSpool):
        return findings.plans()
    return {f.plan for f in findings}


def _record(f: Finding) -> tuple[Any, ...]:
    location = (f.location.file, f.location.line) if f.location is not None else None
    waiver = None
    if f.waiver is not None:
        w = f.waiver
        where = (w.location.file, w.location.line) if w.location is not None else None
        waiver = (w.rule_id, w.address, w.reason, w.owner, w.expires, where)
    return (
        f.rule_id,
        f.title,
        f.severity,
        f.enforcement,
        f.address,
        f.resource_type,
        f.message,
        location,
        waiver,
        f.details,
        f.baselined,
    )


def _finding(record: Any, plan: str) -> Finding:
    rule_id, title, severity, enforcement, address, type_, message, at, waived, details, base = (
        record
    )
    waiver = None
    if waived is not None:
        where = SourceLocation(*waived[5]) if waived[5] is not None else None
        rule, pattern, reason, owner, expires, _ = waived
        waiver = Waiver(rule, pattern, reason, owner, expires, where)
    return Finding(
        rule_id=rule_id,
        title=title,
        severity=severity,
        enforcement=enforcement,
        address=address,
        resource_type=type_,
        message=message,
        plan=plan,
        location=SourceLocation(*at) if at is not None else None,
        waiver=waiver,
        details=details,
        baselined=base,
    )
