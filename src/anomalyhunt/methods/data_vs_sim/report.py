"""The data-versus-simulation study's report sections (figures and tables) and its lines for the terminal."""

from __future__ import annotations

import html
import re
from pathlib import Path

from ...plots import injection_figure, input_spectra_figure, null_distribution_figure, pvalue_figure, save_figure
from ..base import Report, Section
from ..base import html_table as table
from .run import pvalues_against
from .study import trial_statistics_names

__all__ = ["report_sections", "summary_lines"]


def _mass(signal: str) -> int | None:
    found = re.search(r"(\d+)", signal)
    return int(found.group(1)) if found else None


def _fmt(limit: dict) -> str:
    if limit["median"] is None:
        return "not reached"
    if limit.get("at_most"):  # beyond the band at the lowest injection: a bound, not a crossing
        return f"<= {limit['median']:.2g}"
    minus = "?" if limit["minus"] is None else f"{limit['minus']:.2g}"
    plus = "?" if limit["plus"] is None else f"{limit['plus']:.2g}"
    return f"{limit['median']:.2g} -{minus} +{plus}"


def _limit_rows(summary: dict) -> list[list]:
    rows = []
    for loss, by_stat in summary["limits_fb"].items():
        for stat, by_signal in by_stat.items():
            for signal, limit in by_signal.items():
                paper = summary["paper_limits_fb"].get(loss, {}).get(_mass(signal)) if stat != "t_nplm" else None
                events = summary["limits_events"][loss][stat][signal]
                before = summary["limits_fb_before_selection"][loss][stat][signal]
                rows.append([loss, stat, signal, _fmt(events), _fmt(limit), "?" if before is None else _fmt(before),
                             "" if paper is None else f"{paper:g}",
                             "best" if summary["best_statistic"][loss][signal] == stat else ""])
    return rows


def report_sections(result, plots: Path) -> Report:
    """Figures saved into `plots`, and the HTML sections of the report."""
    summary, config, arrays = result.summary(), result.config, result.samples
    images = [("Inputs: the observed background-only data, the simulation (scaled to the data) and each signal's "
               "shape", save_figure(input_spectra_figure(arrays.names, result.observed, arrays.simulation,
                                                         arrays.signals), plots / "inputs.png"))]
    for loss in config.losses:
        names = [n for n in trial_statistics_names(loss) if n not in ("n_data", "t_nplm")]
        null = result.statistics[loss][config.limit_null]
        medians = [v["median"] for st in summary["limits_events"][loss].values() for v in st.values()
                   if v["median"] is not None]
        for zoom, tag in ((None, ""), (2.0 * max(medians) if medians else None, "_zoom")):
            if tag and zoom is None:
                continue
            images.append((f"{loss.upper()}: statistics against injected signal events{' (zoomed)' if tag else ''};"
                           f" bands from the {config.limit_null} null",
                           save_figure(injection_figure(config.injections, result.injections[loss], null, names,
                                                        luminosity_fb=config.luminosity_fb,
                                                        title=f"{loss.upper()} loss", zoom=zoom),
                                       plots / f"injection_{loss}{tag}.png")))
        stats = [n for n in trial_statistics_names(loss) if n != "n_data"]
        dof = {k: v["dof"] for k, v in summary.get("chi2", {}).items() if "dof" in v} if loss == "mlc" else None
        images.append((f"{loss.upper()}: null distributions (bootstrap from the simulation, independent toys)",
                       save_figure(null_distribution_figure({k: result.statistics[loss][k] for k in config.nulls},
                                                            stats, observed=result.statistics[loss]["observed"][0],
                                                            title=f"{loss.upper()} null distributions",
                                                            chi2_dof=dof),
                                   plots / f"nulls_{loss}.png")))
    if config.calibration_datasets:
        pvalues = {f"{loss} {st} ({kind})": pvalues_against(result.statistics[loss][kind][:, j],
                                                     result.statistics[loss]["calibration"][:, j], st)
                   for kind in config.nulls for loss in config.losses
                   for j, st in enumerate(trial_statistics_names(loss)) if st != "n_data"}
        images.append((f"p-values of {config.calibration_datasets} background-only datasets (flat if the null is "
                       "right)", save_figure(pvalue_figure(pvalues, title="background-only p-values"),
                                             plots / "pvalues.png")))

    timing = summary["timing"]
    overview = (
        f"<p>Classifier: {html.escape(summary['classifier'])}. N_exp = {summary['n_expected']:.0f} background events "
        f"({summary['sigma_vis_fb']:.3g} fb visible x {summary['luminosity_fb']:g} fb<sup>-1</sup>); simulation "
        f"{summary['n_simulation']} events; independent pool {summary['n_pool']} events "
        f"({summary['toy_pool']['pool_over_n_expected']:.1f} x N_exp: two toys share "
        f"{100 * summary['toy_pool']['shared_fraction_between_toys']:.0f}% of their events); inputs "
        f"{html.escape(', '.join(summary['inputs']))}. Statistics on "
        f"{html.escape(summary['choices']['statistics_on'])}, score statistics over "
        f"{html.escape(summary['choices']['score_statistics_over'])}; bands: "
        f"{html.escape(summary['choices']['bands'])}.</p>"
        f"<p>Training: {timing['networks']} networks in {timing['groups']} groups, "
        f"{timing['wall_seconds']:.0f} s wall ({html.escape(timing['executor'])}, {html.escape(timing['device'])})."
        "</p>")
    sections = [
        Section("Study", overview, (images[0],)),
        Section("95% limits", "<p>" + html.escape(
                    f"Median -1 sigma +1 sigma over the injections: in selected signal events beside "
                    f"N_b = {summary['n_expected']:.0f} background events per dataset; in fb after the selection "
                    f"(events / L, the paper's upper axis); and read before the selection (events / (L x eps), "
                    f"eps the signal's selection efficiency: "
                    + ", ".join(f"{k} {v:.3f}" for k, v in summary["signal_efficiency"].items() if v)
                    + "). The paper does not say which of the two readings its axis is, so neither is a like-for-"
                    "like comparison with its figures, shown beside them. Statistics over "
                    f"{summary['choices']['score_statistics_over']}, on {summary['choices']['statistics_on']}, "
                    f"{summary['choices']['bands']}. \"<= x\": the median is beyond the band already at the "
                    "lowest injection x, so the limit is only bounded (inject less to measure it).") + "</p>"
                + table(_limit_rows(summary), ["loss", "statistic", "signal", "limit [events]", "limit [fb]",
                                               "before selection [fb]", "paper [fb]", ""]),
                tuple(im for im in images if "injected signal" in im[0])),
        Section("p-values of the observed background-only data", table(
            [[loss, kind, *[f"{v:.3f}" for v in by_stat.values()]]
             for loss, by_kind in summary["null_pvalues"].items() for kind, by_stat in by_kind.items()],
            ["loss", "null", *next(iter(next(iter(summary["null_pvalues"].values())).values())).keys()]),
            tuple(im for im in images if "null distributions" in im[0])),
    ]
    if summary["null_comparison"]:
        sections.append(Section("Bootstrap against independent null", table(
            [[loss, st, f"{v['ks_pvalue']:.3g}", f"{v['std_ratio_bootstrap_to_independent']:.3f}"]
             for loss, by in summary["null_comparison"].items() for st, v in by.items()],
            ["loss", "statistic", "KS p (two samples)", "std bootstrap / independent"])))
    if summary["calibration_ks"]:
        sections.append(Section("Uniformity of background-only p-values (KS p-value)", table(
            [[loss, kind, *[f"{v:.3g}" for v in by_stat.values()]]
             for loss, by_kind in summary["calibration_ks"].items() for kind, by_stat in by_kind.items()],
            ["loss", "null", *next(iter(next(iter(summary["calibration_ks"].values())).values())).keys()]),
            tuple(im for im in images if im[0].startswith("p-values of"))))
    if summary.get("chi2"):
        fitted = {kind: c for kind, c in summary["chi2"].items() if "dof" in c}
        text = ""
        if fitted:
            rows = [[kind, f"{c['dof']:.1f} +- {c['dof_error']:.1f}", f"{c['ks_pvalue']:.3g}",
                     *[f"{t['observed']:.3f} / {t['expected']:.3f}" for t in c["tails"].values()]]
                    for kind, c in fitted.items()]
            text = table(rows, ["null", "dof", "KS p", *[f"beyond {z} (observed / chi^2)"
                                                        for z in next(iter(fitted.values()))["tails"]]])
        text += "".join(f"<p>chi^2 fit skipped for the {html.escape(kind)} null: {html.escape(c['skipped'])}</p>"
                        for kind, c in summary["chi2"].items() if "skipped" in c)
        sections.append(Section("NPLM t against a fitted chi^2", text))
    return Report("Data against simulation (Krzyzanska & Nachman, simulation-based anomaly detection for multileptons)",
                  tuple(sections))


def summary_lines(summary: dict) -> list[str]:
    lines = [f"N_exp {summary['n_expected']:.0f} background events, {summary['timing']['networks']} networks in "
             f"{summary['timing']['wall_seconds']:.0f} s"]
    for loss, by_signal in summary["best_statistic"].items():
        for signal, stat in by_signal.items():
            limit = summary["limits_fb"][loss][stat][signal] if stat else None
            lines.append(f"{loss} {signal}: best {stat or '-'}, limit {_fmt(limit) if limit else 'not reached'} fb")
    for loss, by_kind in summary["null_pvalues"].items():
        for kind, by_stat in by_kind.items():
            lines.append(f"{loss} observed p-values ({kind} null): " +
                         ", ".join(f"{k} {v:.2f}" for k, v in by_stat.items()))
    return lines
