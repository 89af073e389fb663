"""The VAE search's report sections (figures and tables) and its lines for the terminal."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ...features import DIJET_INPUT_NAMES
from ...plots import save_figure, significance_scan_figure, spectrum_figure
from ...plots.latent import (
    epoch_auc_figure,
    latent_heatmaps_figure,
    latent_marginals_figure,
    latent_medians_figure,
    sic_band_figure,
)
from ...stats import roc_curve
from ..base import Report, Section
from ..base import html_table as table
from ..ceiling import ceiling_lines, ceiling_section

__all__ = ["report_sections", "summary_lines"]

_EFF = np.linspace(0.02, 1.0, 50)


def _sic_curves(trained, is_sig, w) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name, member in trained.members.items():
        rows = []
        for m in member:
            curve = roc_curve(m[~is_sig], m[is_sig], weights_background=w[~is_sig])
            fpr = np.interp(_EFF, curve.tpr, curve.fpr)
            rows.append(np.where(fpr > 0, _EFF / np.sqrt(np.maximum(fpr, 1e-300)), np.nan))
        out[name] = (_EFF, np.array(rows))
    return out


def _pm(d: dict) -> str:
    return f"{d['mean']:.3g} +- {d['std']:.2g}"


def report_sections(result, plots: Path) -> Report:
    summary = result.summary()
    vae = result.trained["0"].is_vae
    sections = [_score_section(result, summary, plots),
                ceiling_section(summary.get("supervised_ceiling", {}),
                                f"the {'ensemble KL' if vae else summary['detector'] + ' score'} trained on background "
                                "only (S/B = 0; every S/B in summary.json, by_signal_fraction)"),
                _hunt_section(result, summary, plots), _sculpting_section(result, plots)]
    sections.append(_latent_section(result, summary, plots) if vae else Section(
        "Latent characterisation", f"<p>Not run: it needs a VAE's encoder, and this run's detector is "
        f"{html.escape(summary['detector'])}.</p>"))
    title = ("VAE with a KL anomaly score and latent characterisation (Bortolato et al., PRD 105 (2022) 115009)"
             if vae else f"Score-cut bump hunt in m_jj with {summary['detector']} (after Bortolato et al., PRD 105 "
             "(2022) 115009)")
    return Report(title, tuple(sections))


def _score_section(result, summary: dict, plots: Path) -> Section:
    config, split, arrays = result.config, result.split, result.arrays
    is_sig, w = split.test_is_signal, split.test_weights(arrays)
    tags = ["0", *[f"{f:g}" for f in config.signal_fractions]]
    names = list(result.trained["0"].members)
    paper = summary["paper_sic_at_half"].get("0.001")
    images = [(f"SIC against signal efficiency: {' (solid) and '.join(names)} (dotted) per S/B, band = std over "
               "the ensemble members; the star is the paper's 2.75 (+0.21) at S/B = 0.1%",
               save_figure(sic_band_figure({tag: _sic_curves(result.trained[tag], is_sig, w) for tag in tags},
                                           paper=(0.5, paper["value"], paper["plus"]) if paper else None),
                           plots / "sic.png"))]
    for tag in tags:
        model = result.trained[tag].model
        if getattr(model, "epoch_monitor_", None) is not None:
            images.append((f"S/B = {tag}: test AUC per epoch of five members with the KL and with the reconstruction "
                           "error as score; the dots mark the epoch each member keeps (largest validation KL)",
                           save_figure(epoch_auc_figure(model.epoch_monitor_, model.best_epochs,
                                                        title=f"S/B = {tag}"), plots / f"epoch_auc_sb{tag}.png")))
    rows = []
    for tag in tags:
        a, r, s = summary["auc"][tag], summary["rejection_at_half"][tag], summary["sic_at_half_ensemble"][tag]
        training = summary["training"][tag]
        kept = (f"{np.mean(training['best_epochs']):.1f} ({training['peak_confirmed_members']}/"
                f"{config.vae.n_members} confirmed)" if "best_epochs" in training else "-")
        rows.append([tag, *(a[n] for n in names), _pm(summary["auc_members"][tag][names[0]]),
                     *(r[n] for n in names), _pm(summary["sic_at_half"][tag]), *(s[n] for n in names),
                     "2.75 +0.21" if tag == "0.001" else "", kept])
    head = ["S/B", *(f"AUC {n}" for n in names), f"AUC {names[0]} members", *(f"1/eps_b(0.5) {n}" for n in names),
            f"SIC(0.5) {names[0]} members", *(f"SIC(0.5) {n} ensemble" for n in names), "paper SIC(0.5)",
            "mean kept epoch"]
    text = ("<p>Test events: " + html.escape(f"{len(split.test_bkg)} QCD, {len(split.test_sig)} {summary['signal']}")
            + ". The ensemble score is the mean over members; the member figures are mean +- std over the members."
            "</p>" + table(rows, head))
    title = "KL divergence against reconstruction error" if names == ["kl", "reco"] else "The detector's score"
    return Section(title, text, tuple(images))


def _hunt_section(result, summary: dict, plots: Path) -> Section:
    config = result.config
    hunt_rows, images = [], []
    for tag, h in summary["bump_hunt"].items():
        for region in ("inclusive", "kl_cut"):
            v = h[region]
            if "error" in v:
                hunt_rows.append([tag, region, v["signal_events"], "", "", "", v["error"][:80]])
                continue
            zg = f">= {v['z_global']:.2f}" if v["z_global_is_bound"] else f"{v['z_global']:.2f}"
            hunt_rows.append([tag, region, v["signal_events"], v["mass"], v["z_local"], zg,
                              v["s_over_sqrt_b_window"]])
    for tag in [f"{f:g}" for f in config.signal_fractions][:2]:
        hunt = result.bump_fits[tag].get("kl_cut")
        if hunt is not None:
            images.append((f"S/B = {tag}: m_jj of the training data after the score cut (top {config.kl_efficiency:g} "
                           "of the data) with its dijet fit", save_figure(
                               spectrum_figure(hunt.fit, xlabel=r"$m_{jj}$ [GeV]", title=f"S/B = {tag}, score cut"),
                               plots / f"mjj_klcut_sb{tag}.png")))
            images.append((f"S/B = {tag}: local significance scan after the score cut", save_figure(
                significance_scan_figure(hunt, xlabel=r"$m_{jj}$ [GeV]"), plots / f"scan_sb{tag}.png")))
    text = ("<p>On the training data (QCD as Poisson pseudo-data from its weighted histogram, plus the injected "
            f"signal events), inclusive and after keeping the {config.kl_efficiency:g} most anomalous by "
            f"{html.escape(summary['detector'])}; S/sqrt(B) counted in the signal window "
            f"{config.characterisation.signal_window[0]:g}-{config.characterisation.signal_window[1]:g} GeV.</p>"
            + table(hunt_rows, ["S/B", "selection", "signal events", "best mass [GeV]", "Z_local", "Z_global",
                                "S/sqrt(B) window"]))
    return Section("Bump hunt in m_jj after the score cut", text, tuple(images))


def _sculpting_section(result, plots: Path) -> Section:
    rows, images = [], []
    for region, m in result.sculpting_models.items():
        rec = m.record()
        rows.append([region, rec["n_effective"], rec.get("chi2_ndf", ""), rec.get("chi2_p_value", ""),
                     rec.get("max_abs_pull", ""), rec.get("smooth", rec.get("skipped", ""))])
        if m.check is not None:
            images.append((f"Background only (S/B = 0 detector, QCD test events): m_jj {region.replace('_', ' ')} "
                           "with its smooth fit and pulls", save_figure(
                               spectrum_figure(m.check.fit, xlabel=r"$m_{jj}$ [GeV]", title=f"QCD, {region}"),
                               plots / f"sculpting_{region}.png")))
    return Section("Sculpting check on background only", "<p>The S/B = 0 detector's score cut on the independent "
                   "QCD test events: a smooth fit must still describe the m_jj spectrum.</p>"
                   + table(rows, ["region", "effective events", "chi2/ndf", "chi2 p", "max |pull|", "smooth"]),
                   tuple(images))


def _latent_section(result, summary: dict, plots: Path) -> Section:
    config, split, arrays = result.config, result.split, result.arrays
    is_sig = split.test_is_signal
    latent, control = result.latent, result.control
    names = list(DIJET_INPUT_NAMES)
    z0 = latent.z_test
    mjj_test = arrays.mjj[split.test]
    grid = summary["latent_grid"]
    images = (
        (f"Latent characterisation at S/B = {grid['signal_fraction']} (member 0): each decoded "
         "observable over (m_jj, z), with the 68% (dashed) and 95% (dotted) regions of signal (red) and background "
         "(black) test events (the paper's fig. 7)",
         save_figure(latent_heatmaps_figure(latent.grid_z, latent.grid_m, latent.reconstructed, names,
                                            signal=(mjj_test[is_sig], z0[is_sig]),
                                            background=(mjj_test[~is_sig], z0[~is_sig]),
                                            title=f"S/B = {grid['signal_fraction']}"),
                     plots / grid["heat_maps"])),
        ("The same on background only (S/B = 0, the paper's fig. 8): the control",
         save_figure(latent_heatmaps_figure(control.grid_z, control.grid_m, control.reconstructed, names,
                                            signal=(mjj_test[is_sig], control.z_test[is_sig]),
                                            background=(mjj_test[~is_sig], control.z_test[~is_sig]),
                                            title="S/B = 0"),
                     plots / grid["control_heat_maps"])),
        ("Decoded observables averaged over z at each m_jj, over their mean (the paper's fig. 9 in kind): with "
         "signal (line, mean over members) against background only (band, mean +- std over members); the signal "
         "window is shaded",
         save_figure(latent_marginals_figure(latent.grid_m, latent.marginal, control.marginal, names,
                                             window=config.characterisation.signal_window),
                     plots / grid["marginals"])),
        ("Median of the reconstructed minus median of the input observable over the input's std, signal and "
         "background test events, mean +- std over members (the paper's fig. 6 inset)",
         save_figure(latent_medians_figure(latent.medians, names), plots / grid["medians"])),
    )
    rows = [[k, v["window_deviation"], v["outside_deviation"], v["control_spread"], "yes" if v["visible"] else "no"]
            for k, v in summary["latent_bump"].items()]
    offsets = [[tag, len(rec["mean"]), float(np.median(np.linalg.norm(rec["mean"], axis=1))),
                float(np.median(np.linalg.norm(rec["spread"], axis=1))), rec["offset_over_spread_median"]]
               for tag, rec in (summary.get("latent_offsets") or {}).items()]
    offsets_part = ("<p>Where each member puts the training QCD in its latent space (encoder means): the median over "
                    "members of the distance of their centre from the prior's (0) and of their spread. An offset "
                    "large against the spread means the KL ranks events along one direction.</p>"
                    + table(offsets, ["S/B", "members", "median |centre|", "median spread",
                                      "median |centre| / spread"]))
    return Section("Latent characterisation", "<p>Largest deviation of the marginals with signal from those on "
                   "background only, inside the signal window and outside it (m_jj > 2.8 TeV); 'visible' means "
                   "inside > 2 x outside.</p>" + table(rows, ["observable", "window deviation", "outside deviation",
                                                             "control spread (window)", "visible"]) + offsets_part,
                   images)


def summary_lines(summary: dict) -> list[str]:
    lines = []
    for tag, a in summary["auc"].items():
        sic = summary["sic_at_half"][tag]
        first = next(iter(a))
        aucs = ", ".join(f"{name} {value:.3f}" for name, value in a.items())
        lines.append(f"S/B = {tag}: AUC {aucs}; SIC(eps_s = 0.5) {first} {sic['mean']:.2f}"
                     + (f" +- {sic['std']:.2f} over members" if first == "kl" else "")
                     + (" (paper 2.75 +0.21)" if tag == "0.001" else ""))
    for region, rec in summary["sculpting"]["m_jj"].items():
        if "smooth" in rec:
            lines.append(f"sculpting (background only, {region}): chi2/ndf {rec['chi2_ndf']:.2f}, smooth: "
                         f"{rec['smooth']}")
    lines += ceiling_lines(summary.get("supervised_ceiling", {}))
    if summary["latent_bump"] is None:
        lines.append(f"latent characterisation: not run ({summary['detector']} is not a VAE)")
    else:
        visible = [k for k, v in summary["latent_bump"].items() if v["visible"]]
        lines.append(f"latent characterisation at S/B = {summary['latent_grid']['signal_fraction']}: bump visible in "
                     f"{', '.join(visible) or 'no observable'}")
    return lines
