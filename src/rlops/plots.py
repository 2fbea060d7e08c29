"""Pictures people would rather look at than read: reward curves and load against capacity.

Rendered with matplotlib's Agg backend to PNG (or any format matplotlib writes), no screen needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

MINUTES_PER_DAY = 1440


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def reward_curve(frame: pd.DataFrame, metrics: Iterable[str], path: str | Path, title: str = "") -> Path:
    """Each metric's data points against time since the job's first data point, with a moving average."""
    plt = _pyplot()
    metrics = list(metrics)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name in metrics:
        series = frame[frame.metric_name == name]
        if series.empty:
            continue
        # each point marked too: a metric logged rarely (an evaluation, week-long episodes) is a few points
        line, = ax.plot(series.timestamp, series.value, alpha=0.35, linewidth=1, marker="o", markersize=3)
        window = max(1, len(series) // 20)
        smooth = series.value.rolling(window, min_periods=1).mean()
        ax.plot(series.timestamp, smooth, color=line.get_color(), linewidth=2, label=f"{name} (moving average)")
    ax.set_xlabel("seconds since the first data point")
    ax.set_ylabel("value")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def load_and_capacity(traces: dict[str, dict[str, list[float]]], path: str | Path, days: float = 3.0) -> Path:
    """For each policy: the load and the serving capacity over the first ``days`` simulated days."""
    plt = _pyplot()
    steps = int(days * MINUTES_PER_DAY)
    fig, axes = plt.subplots(len(traces), 1, figsize=(11, 3.2 * len(traces)), sharex=True, squeeze=False)
    for ax, (name, trace) in zip(axes[:, 0], traces.items()):
        hours = np.arange(min(steps, len(trace["load"]))) / 60.0
        n = len(hours)
        ax.plot(hours, trace["load"][:n], color="tab:gray", linewidth=0.8, label="load (transactions/min)")
        ax.plot(hours, trace["capacity"][:n], color="tab:blue", linewidth=1.2, label="serving capacity")
        down = np.array(trace.get("downtime", [0] * n)[:n]) > 0
        if down.any():
            ax.fill_between(hours, 0, 1, where=down, color="tab:red", alpha=0.3, transform=ax.get_xaxis_transform(),
                            label=f"downtime ({int(down.sum())} min)")
        ax.set_title(name)
        ax.set_ylabel("transactions / minute")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("hours")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def tuning_picture(frame: pd.DataFrame, objective: str, ranges: dict[str, dict], maximize: bool, path: str | Path,
                   title: str = "") -> Path:
    """A tuning job at a glance: each training job's final objective against its trial number (with the best so
    far), then against each tuned hyperparameter (log axes for logarithmic ranges). Jobs stopped early are
    crosses; failed jobs, which have no objective, are left out."""
    plt = _pyplot()
    names = list(ranges)
    fig, axes = plt.subplots(1, 1 + len(names), figsize=(4.2 * (1 + len(names)), 4), squeeze=False)
    axes = axes[0]
    scored = frame[frame["FinalObjectiveValue"].notna()] if not frame.empty else frame
    early = scored["EarlyStopped"].astype(bool) if not scored.empty else pd.Series(dtype=bool)
    groups = [(scored[~early], "o", "completed"), (scored[early], "x", "stopped early")]
    trial = pd.Series(np.arange(1, len(frame) + 1), index=frame.index)
    ax = axes[0]
    for part, marker, label in groups:
        if not part.empty:
            ax.scatter(trial[part.index], part["FinalObjectiveValue"], marker=marker, label=label)
    completed = scored[~early]
    if not completed.empty:
        best = completed["FinalObjectiveValue"].cummax() if maximize else completed["FinalObjectiveValue"].cummin()
        ax.step(trial[completed.index], best, where="post", color="black", linewidth=1.5, label="best so far")
    ax.set_xlabel("trial")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(objective)
    ax.set_title(title or "objective by trial")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    for ax, name in zip(axes[1:], names):
        categorical = "Values" in ranges[name]
        for part, marker, label in groups:
            if part.empty:
                continue
            x = part[name].map(lambda v: str(v)) if categorical else part[name]
            ax.scatter(x, part["FinalObjectiveValue"], marker=marker, label=label)
        if ranges[name].get("ScalingType") == "Logarithmic":
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a short log axis overlap
        ax.set_xlabel(name)
        ax.set_ylabel(objective)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
