"""The benchmark report: every figure `make bench` prints, kept with its target and, where our own
scripts measured it on the same machine, the figure of what a user would pick instead. `make bench`
writes it to bench/report.md (for people) and bench/report.json (for tools)."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    section: str
    measure: str
    value: float
    unit: str
    target: str = ""  # e.g. "<= 20"; empty: no target, a figure to read
    alternative: str = ""  # the alternative's figure, with what it is
    note: str = ""

    def verdict(self) -> str:
        if not self.target:
            return ""
        op, _, bound = self.target.partition(" ")
        limit = float(bound)
        met = {"<=": self.value <= limit, "<": self.value < limit, ">=": self.value >= limit}[op]
        return "met" if met else "MISSED"


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(self, section: str, measure: str, value: float, unit: str, *, target: str = "",
            alternative: str = "", note: str = "") -> float:
        self.figures.append(Figure(section, measure, round(value, 3), unit, target, alternative, note))
        return value

    def markdown(self, machine: str) -> str:
        lines = ["# Benchmark report", "",
                 f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}. ",
                 "Figures from a shared machine are noisy; compare them with each other, not across machines. "
                 "An alternative's figure was measured by our own scripts on this machine where one is given.", ""]
        section = ""
        for figure in self.figures:
            if figure.section != section:
                section = figure.section
                lines += ["", f"## {section}", "", "| measure | ours | target | | alternative | note |",
                          "|---|---:|---|---|---|---|"]
            lines.append(f"| {figure.measure} | {_number(figure.value)} {figure.unit} | {figure.target} "
                         f"| {figure.verdict()} | {figure.alternative} | {figure.note} |")
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        machine = f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, " \
                  f"{platform.machine()}"
        md, js = folder / "report.md", folder / "report.json"
        md.write_text(self.markdown(machine), encoding="utf-8")
        js.write_text(json.dumps({"machine": machine, "figures": [asdict(f) | {"verdict": f.verdict()}
                                                                  for f in self.figures]}, indent=1) + "\n",
                      encoding="utf-8")
        return md, js


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
