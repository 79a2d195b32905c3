"""The system benchmark's report: PNG plots and the figures table of docs/performance.md."""

import shutil
from pathlib import Path
from typing import Any

from bench.system import percentiles

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKER = "<!-- figures: written by `make bench` (bench/report.py) -->"


def plots(results: dict[str, Any], raw: dict[str, dict[str, list[float]]], out: Path) -> list[Path]:
    """Latency distribution and throughput against workers, as PNG files in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    made = []
    figure, axes = pyplot.subplots(1, 2, figsize=(10, 4), sharey=True)
    for axis, clients in zip(axes, ("1", "16"), strict=True):
        for route, times in raw[clients].items():
            ordered = sorted(times)
            axis.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=route)
        axis.set_xscale("log")
        axis.set_title(f"{clients} client(s)")
        axis.set_xlabel("latency (ms, log)")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("fraction of requests")
    axes[0].legend()
    made.append(out / "latency.png")
    figure.tight_layout()
    figure.savefig(made[-1], dpi=90)

    figure, axis = pyplot.subplots(figsize=(7, 4))
    names = list(results["burst"])
    measured = [results["burst"][name]["per_second"] for name in names]
    ideal = [results["burst"][name]["ideal_per_second"] for name in names]
    positions = range(len(names))
    axis.bar([p - 0.2 for p in positions], measured, width=0.4, label="measured")
    axis.bar([p + 0.2 for p in positions], ideal, width=0.4, label="ideal", alpha=0.5)
    axis.set_xticks(list(positions), names, rotation=15, fontsize=8)
    axis.set_ylabel("lessons / s (burst of 96, 2 s model)")
    axis.legend()
    made.append(out / "throughput.png")
    figure.tight_layout()
    figure.savefig(made[-1], dpi=90)
    pyplot.close("all")
    return made


def _ms(value: float) -> str:
    return f"{value:,.0f} ms"


def table(results: dict[str, Any]) -> str:
    """The figures of one run, each beside its target and its baseline from the same run."""
    model = results["model_seconds"] * 1000
    ttl = results["time_to_lesson"]
    old, new = ttl["00:00:02"], ttl[results["chosen_polling"]]
    over_new, over_old = new["seen"]["p50"] - model, old["seen"]["p50"] - model
    seq, par = results["accept"]["1"], results["accept"]["16"]
    ratio = seq["generate"]["p95"] / seq["get_lesson"]["p95"]
    burst = results["burst"]
    cosmos = results["cosmos_per_lesson"]
    rss = max(b["peak_rss_mb"] for b in burst.values())
    rows = [
        ("Figure", "This run", "Target", "Baseline (same run)"),
        (
            "Time-to-lesson above the model, median",
            f"{_ms(over_new)} ({over_new / model:.0%})",
            "≤ 300 ms and ≤ 15 %",
            f"{_ms(over_old)} ({over_old / model:.0%}) at maxPollingInterval 2 s",
        ),
        (
            "Time-to-lesson p50 / p95 (seen, 50 ms polling)",
            f"{_ms(new['seen']['p50'])} / {_ms(new['seen']['p95'])}",
            "model + ≤ 300 ms",
            f"{_ms(old['seen']['p50'])} / {_ms(old['seen']['p95'])}",
        ),
        *[
            (
                f"Time-to-lesson p50, maxPollingInterval {polling}",
                _ms(figures["seen"]["p50"]),
                "",
                "",
            )
            for polling, figures in ttl.items()
        ],
        (
            "Burst of 96, one worker",
            f"{burst['chosen, 1 worker']['per_second']}/s "
            f"({burst['chosen, 1 worker']['of_ideal']:.0%} of "
            f"{burst['chosen, 1 worker']['ideal_per_second']:g}/s)",
            "≥ 80 % of ideal",
            f"{burst['old settings, 1 worker']['per_second']}/s "
            f"({burst['old settings, 1 worker']['of_ideal']:.0%}) with batch 16/8, polling 2 s",
        ),
        (
            "Burst of 96, two workers",
            f"{burst['chosen, 2 workers']['per_second']}/s "
            f"({burst['chosen, 2 workers']['of_ideal']:.0%} of "
            f"{burst['chosen, 2 workers']['ideal_per_second']:g}/s)",
            "(reported)",
            f"batch 16/8 at 250 ms polling, one worker: "
            f"{burst['batch 16/8, 1 worker']['per_second']}/s",
        ),
        (
            "`POST …/generate` p95 ÷ `GET /api/lessons/{id}` p95, sequential",
            f"×{ratio:.1f} ({_ms(seq['generate']['p95'])} / {_ms(seq['get_lesson']['p95'])})",
            "≤ ×3",
            f"`GET /api/health` p95 {_ms(seq['health']['p95'])}",
        ),
        (
            "Accept p50/p95/p99, 16 clients: generate",
            " / ".join(_ms(par["generate"][p]) for p in ("p50", "p95", "p99")),
            "(reported)",
            "GET lesson " + " / ".join(_ms(par["get_lesson"][p]) for p in ("p50", "p95", "p99")),
        ),
        (
            "Full-document writes per lesson (request → completed)",
            f"{cosmos['full_document_writes']:g} + {cosmos['patches']:g} patches",
            "≤ 4, progress as patches",
            f"{cosmos['full_document_writes'] + cosmos['patches']:g} replaces (progress replaced)",
        ),
        (
            "Cosmos DB operations / bytes written per lesson",
            f"{cosmos['operations']:g} / {cosmos['bytes_written']:,} B",
            "(reported)",
            "",
        ),
        (
            "Provider calls per completed lesson",
            f"{results['provider_calls']['per_lesson']:g}",
            "1",
            "",
        ),
        ("Peak worker RSS (burst in flight)", f"{rss:.0f} MB", "≤ 250 MB", ""),
        (
            "Cold start: import function_app / host ready / first request",
            f"{_ms(results['import_ms'])} / {_ms(results['host_ready_ms'])} / "
            f"{_ms(results['first_request_ms'])}",
            "(reported)",
            f"second request {_ms(results['second_request_ms'])}",
        ),
        (
            "Onboarding, explicit 6 × 5 outline, p50 / p95",
            f"{_ms(results['onboarding']['prefetch_1']['p50'])} / "
            f"{_ms(results['onboarding']['prefetch_1']['p95'])}",
            "(reported)",
            f"prefetch 0: {_ms(results['onboarding']['prefetch_0']['p50'])} / "
            f"{_ms(results['onboarding']['prefetch_0']['p95'])}",
        ),
    ]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|---|---|---|---|")
    return "\n".join(lines)


def live_table(live: dict[str, Any]) -> str:
    """Live lessons (``bench/live.py``): time to the first section, and writes per lesson."""
    first_byte = live["first_byte_seconds"] * 1000
    after_byte = percentiles([s["after_first_byte_ms"] for s in live["samples"]])
    after_click = percentiles([s["after_click_ms"] for s in live["samples"]])
    delay = percentiles([s["delay_ms"] for s in live["samples"]])
    writes = live["writes_per_lesson"]
    rows = [
        ("Figure", "This run", "Target", "Baseline (same run)"),
        (
            "First section after the provider's first byte, p50 / p95",
            f"{_ms(after_byte['p50'])} / {_ms(after_byte['p95'])}",
            "≤ 500 ms",
            "the whole lesson: "
            f"{_ms(live['stream_seconds'] * 1000)} of streaming before anything was shown",
        ),
        (
            "… of which the model writing the first section / this system's delay, p50",
            f"{_ms(live['first_section_written_ms'])} / {_ms(delay['p50'])} "
            f"(p95 {_ms(delay['p95'])})",
            "(reported)",
            "",
        ),
        (
            "First section after the click, p50 / p95",
            f"{_ms(after_click['p50'])} / {_ms(after_click['p95'])}",
            f"≤ 2 s + time to first token ({_ms(first_byte)}) = {_ms(2000 + first_byte)}",
            "",
        ),
        (
            "Cosmos DB writes per lesson (lesson documents)",
            f"{writes['live']:g} with sections shown live",
            "unchanged",
            f"{writes['polling']:g} without a push channel",
        ),
    ]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|---|---|---|---|")
    return "\n".join(lines)


def write_docs(
    results: dict[str, Any], made: list[Path], live: dict[str, Any] | None = None
) -> Path:
    """Replace the figures section of docs/performance.md (after MARKER) and copy the plots."""
    target = DOCS / "performance"
    target.mkdir(parents=True, exist_ok=True)
    for plot in made:
        shutil.copy(plot, target / plot.name)
    page = DOCS / "performance.md"
    text = page.read_text() if page.exists() else f"# Performance\n\n{MARKER}\n"
    head = text.split(MARKER)[0]
    figures = (
        f"{MARKER}\n\n{table(results)}\n\n"
        "![Accept latency](performance/latency.png)\n\n"
        "![Burst throughput against workers](performance/throughput.png)\n"
    )
    if live is not None:
        figures += (
            f"\n### Live lessons\n\nA lesson streamed over {live['stream_seconds']:g} s after a "
            f"{live['first_byte_seconds']:g} s wait for the first token, {len(live['samples'])} "
            f"samples, one host writing and publishing to the local Web PubSub service.\n\n"
            f"{live_table(live)}\n"
        )
    page.write_text(head + figures)
    return page
