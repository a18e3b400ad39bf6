"""PNG charts of a metric per rep over weeks, readable on a phone, with Chinese labels.

matplotlib with the Agg backend and its object API (no pyplot state, so charts can be drawn in a worker
thread). Chinese text needs a CJK font: the project depends on `paperang-p2-fonts-cjk`, which ships
WenQuanYi Micro Hei (Apache-2.0); a CJK font installed on the system (Noto Sans CJK, WenQuanYi,
Source Han Sans) is used when that package is missing.
"""

from __future__ import annotations

import importlib.resources
import io
import logging
import threading
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

log = logging.getLogger(__name__)

PACKAGED_FONTS = (("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"),)
SYSTEM_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC",
                   "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN")
MAX_LINES = 10  # more reps than this: team total and average instead of one line each

_lock = threading.Lock()
_family: list[str] = []


def cjk_family() -> str | None:
    """The CJK font family to draw with (registered once), or None when no CJK font can be found."""
    with _lock:
        if _family:
            return _family[0] or None
        found: str | None = None
        for package, resource in PACKAGED_FONTS:
            try:
                path = importlib.resources.files(package) / resource
            except ModuleNotFoundError:
                continue
            if path.is_file():
                font_manager.fontManager.addfont(str(path))
                found = font_manager.FontProperties(fname=str(path)).get_name()
                break
        if found is None:
            names = {f.name for f in font_manager.fontManager.ttflist}
            found = next((name for name in SYSTEM_FAMILIES if name in names), None)
        if found is None:
            log.warning("no CJK font found: Chinese chart labels will not render (pip install paperang-p2-fonts-cjk)")
        _family.append(found or "")
        return found


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]


@dataclass(frozen=True)
class ChartText:
    title: str
    subtitle: str
    total_label: str  # legend of the team total (many reps)
    average_label: str  # legend of the average per rep (many reps)
    target_label: str  # legend of the target line


def render_png(text: ChartText, weeks: list[str], series: list[Series], target: int | None = None) -> bytes:
    """A 1200×800 PNG: one line per rep (up to MAX_LINES), else team total bars and the average per rep."""
    family = cjk_family()
    rc: dict[str, Any] = {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"], "font.size": 13,
          "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]
        fig = Figure(figsize=(8, 5.33), dpi=150)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(weeks)))
        if len(series) <= MAX_LINES:
            for s in series:
                ax.plot(x, s.values, marker="o", linewidth=2.2, markersize=5, label=s.name)
                if s.values:
                    ax.annotate(str(s.values[-1]), (x[-1], s.values[-1]), textcoords="offset points",
                                xytext=(6, 0), va="center", fontsize=11)
            if target is not None:
                ax.axhline(target, color="#d62728", linestyle="--", linewidth=1.5, label=text.target_label)
        else:
            totals = [sum(s.values[i] for s in series) for i in x]
            ax.bar(x, totals, color="#9ecae1", label=text.total_label)
            ax2 = ax.twinx()
            average = [t / len(series) for t in totals]
            ax2.plot(x, average, color="#08519c", marker="o", linewidth=2.2, label=text.average_label)
            if target is not None:
                ax2.axhline(target, color="#d62728", linestyle="--", linewidth=1.5, label=text.target_label)
            ax2.set_ylim(bottom=0)
            ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
            handles, labels = ax.get_legend_handles_labels()
            handles2, labels2 = ax2.get_legend_handles_labels()
            ax.legend(handles + handles2, labels + labels2, loc="upper left", fontsize=11, frameon=False)
        ax.set_xticks(x)
        ax.set_xticklabels([w.split("-")[-1] for w in weeks], fontsize=11)
        peak = max([max(s.values, default=0) for s in series] + [target or 0, 1])
        if len(series) <= MAX_LINES:
            ax.set_ylim(0, peak * 1.15 + 0.5)
        else:
            ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.suptitle(text.title, fontsize=17, x=0.02, ha="left")
        ax.set_title(text.subtitle, fontsize=11, loc="left", color="#555555")
        if len(series) <= MAX_LINES and (series or target is not None):
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(4, max(1, len(series) + 1)),
                      fontsize=11, frameon=False)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
