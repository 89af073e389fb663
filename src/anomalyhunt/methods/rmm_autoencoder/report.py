"""The RMM search's report sections (figures and tables) and its lines for the terminal."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ...features import rmm
from ...plots import (
    limit_figure,
    loss_figure,
    mean_rmm_figure,
    roc_sic_figure,
    save_figure,
    score_figure,
    significance_scan_figure,
    spectrum_figure,
)
from ...stats import describe_z_global, p_to_z
from ..base import Report, Section, html_table
from ..ceiling import ceiling_lines, ceiling_section

__all__ = ["report_sections", "summary_lines"]


def report_sections(result, plots: Path) -> Report:
    """Figures saved into `plots`, and the report's sections."""
    config = result.config
    summary = result.summary()
    return Report(f"anomalyhunt: anomaly regions and bump hunt ({summary['detector']} on {summary['features']})", (
        _training_section(result, summary, plots), _separation_section(result, summary, plots),
        _regions_section(summary), _excesses_section(result, summary, plots), _gain_section(summary),
        ceiling_section(summary.get("supervised_ceiling", {}), f"the {summary['detector']} score (data model)"),
        _sculpting_section(result, summary, plots), _rmm_section(result, config, plots)),
        _answer(summary, result.spectra))


def _injected_in(spectrum, names) -> str:
    """Where the injected samples sit in one spectrum: events, peak and central 68% in mass."""
    parts = []
    for name in names:
        counts = spectrum.signals.get(name)
        if counts is None or counts.sum() <= 0:
            parts.append(f"{name}: no events in this spectrum")
            continue
        centres = 0.5 * (spectrum.edges[1:] + spectrum.edges[:-1])
        cdf = np.cumsum(counts) / counts.sum()
        lo, hi = centres[np.searchsorted(cdf, 0.16)], centres[min(np.searchsorted(cdf, 0.84), len(centres) - 1)]
        parts.append(f"{name}: {counts.sum():.0f} events, peak at {centres[np.argmax(counts)]:.0f} GeV, central 68% "
                     f"{lo:.0f}-{hi:.0f} GeV")
    return "; ".join(parts)


def _answer(summary: dict, spectra=()) -> tuple[str, ...]:
    """The report's first lines: the largest excess and its global significance, where the injected signal sits
    in that spectrum, the null test, the verdict."""
    out = []
    if z := summary["z_global"]:
        out.append(f"Largest excess: {z['channel']} in the {z['region']} region at {z['mass']:.0f} GeV, "
                   f"Z_local = {z['z_local_max']:.2f} over {z['n_spectra']} spectra; {describe_z_global(z)}.")
    else:
        out.append("No spectrum could be fitted, so nothing was hunted (too few simulated events in every region).")
    if summary["injected"]:
        line = "Injected into the data: " + ", ".join(f"{k} x {v:g}" for k, v in summary["injected"].items())
        there = next((sp for sp in spectra if z and (sp.observable, sp.region) == (z["channel"], z["region"])), None)
        if there is not None:
            line += f"; in that spectrum {_injected_in(there, summary['injected'])}"
        out.append(line + ".")
    if null := summary.get("null_test"):
        out.append(f"Null test (trained and hunted without the signal): Z_local max {null['z_local_max']:.2f} "
                   f"({null['channel']}, {null['region']}); {describe_z_global(null)}.")
    out.append("Anomaly regions against the inclusive search: " + summary["sensitivity_gain_verdict"])
    return tuple(out)


def _training_section(result, summary: dict, plots: Path) -> Section:
    t = summary["training"]
    epochs = (f"{t['epochs']} epochs (best {t['best_epoch']}), {t['seconds_per_epoch']:.2f} s/epoch on "
              f"{html.escape(t['device'])}, " if "epochs" in t else "")
    history = getattr(result.model, "history_", None)
    images = (("Loss curves", save_figure(loss_figure(history), plots / "loss.png")),) if history else ()
    return Section("Training", f"<p>Detector: {html.escape(summary['detector'])} on "
                   f"{html.escape(summary['features'])} inputs. Training: {t['events']} events, {epochs}"
                   f"{t['inputs']} inputs, {html.escape(t['weights'])}. "
                   f"Injected into data: {html.escape(str(summary['injected']) or 'nothing')}.</p>", images)


def _separation_section(result, summary: dict, plots: Path) -> Section:
    rows = [[s, a, summary["auc_uncontaminated"].get(s, "-"), summary["auc_fourvec"].get(s, "-")]
            for s, a in summary["auc"].items()]
    images = [("Anomaly score: SM vs BSM", save_figure(score_figure(result.score, result.process, result.weight,
                                                                    result.sm_test), plots / "scores.png"))]
    if result.curves:
        images.append(("ROC and SIC", save_figure(roc_sic_figure(result.curves), plots / "roc_sic.png")))
    return Section("Separation SM vs BSM (AUC)", html_table(
        rows, ["sample", "AUC (trained on data)", "AUC (trained without injected signal)", "AUC (four-vectors)"]),
        tuple(images))


def _regions_section(summary: dict) -> Section:
    return Section("Anomaly regions", html_table(
        [[r["name"], r["threshold"], r["cross_section_pb"], r["efficiency"]] for r in summary["regions"]],
        ["region", "score threshold", "visible cross section [pb]", "efficiency"])
        + f"<p>Pseudo-data: {html.escape(summary['pseudo_data'])} at {summary['data_luminosity_fb']:g} fb<sup>-1"
        "</sup>.</p>")


def _excesses_section(result, summary: dict, plots: Path) -> Section:
    z, null = summary["z_global"], summary["null_test"]
    images = []
    exported = {(sp.observable, sp.region): sp for sp in result.spectra}
    label = {"luminosity_fb": summary["data_luminosity_fb"]}
    for x in result.excesses[:4]:
        tag = f"{x.channel}_{x.region}"
        spectrum = exported.get((x.channel, x.region))  # with the fit uncertainty band and the injected signal
        injected = [(f"injected {n}", spectrum.signals[n]) for n in summary["injected"]
                    if spectrum is not None and n in spectrum.signals]
        images.append((f"{x.channel} in region {x.region}",
                       save_figure(spectrum_figure(spectrum or x.result.fit, xlabel=f"{x.channel} [GeV]", title=tag,
                                                   label=label, signal=injected[0] if injected else None),
                                   plots / f"spectrum_{tag}.png")))
        images.append((f"Significance scan {tag}",
                       save_figure(significance_scan_figure(x.result, xlabel=f"{x.channel} [GeV]", title=tag),
                                   plots / f"scan_{tag}.png")))
    lumi = summary["data_luminosity_fb"]
    for x in result.limits[:2]:
        tag = f"{x.channel}_{x.region}"
        images.append((f"Limits: {x.channel} in region {x.region}",
                       save_figure(limit_figure(x.result, luminosity_fb=lumi, xlabel=f"{x.channel} [GeV]",
                                                title=tag), plots / f"limits_{tag}.png")))
    text = (html_table([[x["channel"], x["region"], x["mass"], x["width"], x["z_local"], x["signal"],
                         (">= " if x["p_global_spectrum_is_bound"] else "") + f"{p_to_z(x['p_global_spectrum']):.2f}",
                         x["fit_chi2_ndf"]]
                        for x in summary["excesses"][:10]],
                       ["channel", "region", "mass [GeV]", "width", "Z local", "fitted signal events",
                        "Z global (this spectrum)", "fit chi2/ndf"])
            + "<p>Global: " + (f"largest Z_local = {z['z_local_max']:.2f} ({html.escape(z['channel'])}, "
                               f"{html.escape(z['region'])}, {z['mass']:.0f} GeV) over {z['n_spectra']} spectra; "
                               f"p_global = {z['p_global']:.3g}; {html.escape(describe_z_global(z))}"
                               + _skipped(z) if z else "no spectrum to fit")
            + ". Z_local profiles the background shape to first order; limits are CLs (q-tilde, asymptotic) with the "
            "background parameters profiled.</p>"
            + "<p>Null test (model trained without the injected signal, background-only pseudo-data): "
            + (f"largest Z_local = {null['z_local_max']:.2f}; {html.escape(describe_z_global(null))} over "
               f"{null['n_spectra']} spectra" if null else "not run") + "</p>")
    return Section("Largest local excesses", text, tuple(images))


def _gain_section(summary: dict) -> Section:
    return Section("Sensitivity gain of the anomaly regions", "".join([
        f"<p><b>{html.escape(summary['sensitivity_gain_verdict'])}</b></p>",
        *(_gain_table(model, region, gains) for model, regions in summary["sensitivity_gain_by_region"].items()
          for region, gains in regions.items()),
        "<p>S and B are counted within +-1 mass resolution of the signal's peak at the analysis luminosity. The "
        "\"data\" model is trained on the data (with any injected signal), the \"clean\" one on the same events "
        "without it. Effective events (Kish) say how many simulated SM events B rests on; a gain carried by one heavy "
        "event is noise. Limits on every fitted spectrum are in summary.json (`limits`).</p>"]))


def _sculpting_section(result, summary: dict, plots: Path) -> Section:
    images = []
    for channel, model in result.sculpting.items():
        if model.check is not None:
            tag = f"sculpting_{channel}_{model.region}"
            images.append((f"Sculpting check (weighted SM simulation): {channel}, region {model.region}",
                           save_figure(spectrum_figure(model.check.fit, xlabel=f"{channel} [GeV]", title=tag),
                                       plots / f"{tag}.png")))
    return Section("Background fits to the weighted SM simulation (sculpting check)", html_table(
        [[v["channel"], v["region"], v["n_effective"],
          *((v["chi2_ndf"], v["max_abs_pull"], v["smooth"]) if "skipped" not in v else ("-", "-", "-")),
          v.get("skipped", "")]
         for v in summary["background_fits"]],
        ["spectrum", "region", "effective events", "chi2/ndf", "max |pull|", "smooth", "skipped"]), tuple(images))


def _rmm_section(result, config, plots: Path) -> Section:
    process, weight, is_sm = result.process, result.weight, result.is_sm
    groups = {"SM mix": is_sm} | {s: process == s for s in sorted(set(process[~is_sm]))}
    images = []
    for name, sel in groups.items():
        if sel.sum() == 0:
            continue
        fig = mean_rmm_figure(rmm(result.events[sel], preset=config.rmm_preset), weights=weight[sel],
                              preset=config.rmm_preset, title=f"mean RMM: {name}")
        images.append((f"Mean RMM: {name}", save_figure(fig, plots / f"rmm_{name.replace(' ', '_')}.png")))
    return Section("Mean rapidity-mass matrices", f"<p>Preset {html.escape(config.rmm_preset)}, weighted by the "
                   "event weights.</p>", tuple(images))


def _gain_table(model: str, region: str, gains: dict) -> str:
    return f"<h3>{html.escape(region)}, {html.escape(model)} model</h3>" + html_table(
        [[k, v["channel"], v["mass"], v["significance_before"], v["significance_after"],
          v["gain"] if v["note"] == "" else v["note"], v["signal_efficiency_region"], v["background_efficiency_region"],
          v["signal_efficiency"], v["background_efficiency"], v["n_eff_background_before"], v["n_eff_background_after"],
          v["largest_weight_share_after"]]
         for k, v in gains.items()],
        ["sample", "channel", "mass [GeV]", "S/sqrt(B) before", "after", "gain", "signal eff. (all masses)",
         "SM eff. (all masses)", "signal eff. (window)", "SM eff. (window)", "SM events (eff.) before", "after",
         "heaviest event's share of B after"])


def _skipped(z: dict) -> str:
    if not z.get("skipped"):
        return ""
    return "; left out (pseudo-data fit not usable): " + ", ".join(
        html.escape(f"{s['channel']} {s['region']} ({s['reason']})") for s in z["skipped"])


def summary_lines(summary: dict) -> list[str]:
    """The search's figures for the terminal."""
    kind = summary.get("features", "rmm").upper().replace("FOURVEC", "four-vectors")
    out = ["", f"SM vs BSM separation (AUC of the {summary.get('detector', 'autoencoder')} score on {kind}; trained "
           "on data / without the injected signal):"]
    for sample, value in summary["auc"].items():
        fv = summary["auc_fourvec"].get(sample)
        clean = summary["auc_uncontaminated"].get(sample)
        out.append(f"  {sample:<24} {kind} {value:.3f}" + (f" / {clean:.3f}" if clean is not None else "")
                   + (f"   four-vectors {fv:.3f}" if fv is not None else ""))
    out.append("anomaly regions: " + ", ".join(f"{r['name']} (score > {r['threshold']:.2f})"
                                               for r in summary["regions"]))
    for x in summary["excesses"][:3]:
        out.append(f"  excess: {x['channel']} in {x['region']} at {x['mass']:.0f} GeV, Z_local = {x['z_local']:.2f}")
    z = summary["z_global"]
    if z:
        out.append(f"global: Z_local max {z['z_local_max']:.2f} ({z['channel']}, {z['region']}, {z['mass']:.0f} GeV) "
                   f"over {z['n_spectra']} spectra -> p_global = {z['p_global']:.3g}; {describe_z_global(z)}")
    if null := summary.get("null_test"):
        out.append(f"null test (no signal): Z_local max {null['z_local_max']:.2f} ({null['channel']}, "
                   f"{null['region']}) -> {describe_z_global(null)}")
    out.append("sensitivity gain: " + summary["sensitivity_gain_verdict"])
    out += ceiling_lines(summary.get("supervised_ceiling", {}))
    for channel, r in summary["sculpting"].items():
        if "chi2_ndf" in r:
            out.append(f"sculpting (SM simulation, {r['region']}): {channel} chi2/ndf = {r['chi2_ndf']:.2f}, "
                       f"max |pull| = {r['max_abs_pull']:.2f}, smooth = {r['smooth']}")
        else:
            out.append(f"sculpting ({r['region']}): {channel} {r['skipped']}")
    return out
