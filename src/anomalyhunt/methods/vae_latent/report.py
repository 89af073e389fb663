"""The seed-004 report sections (figures and tables) and the lines for the terminal."""

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
from ..base import Report
from ..base import html_table as table
from ..ceiling import ceiling_html, ceiling_lines

__all__ = ["report_sections", "summary_lines"]

_EFF = np.linspace(0.02, 1.0, 50)


def _sic_curves(trained, is_sig, w) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name, member in (("kl", trained.kl), ("reco", trained.reco)):
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
    summary, config = result.summary_data, result.config
    split, arrays = result.split, result.arrays
    is_sig, w = split.test_is_signal, split.test_weights(arrays)
    fractions = [f"{f:g}" for f in config.signal_fractions]
    paper = summary["paper_sic_at_half"].get("0.001")
    images = [("SIC against signal efficiency: KL (solid, band = std over the ensemble members) and "
               "reconstruction error (dotted) per S/B; the star is seed 004's 2.75 (+0.21) at S/B = 0.1%",
               save_figure(sic_band_figure({tag: _sic_curves(result.trained[tag], is_sig, w)
                                            for tag in ["0", *fractions]},
                                           paper=(0.5, paper["value"], paper["plus"]) if paper else None),
                           plots / "sic.png"))]
    for tag in ["0", *fractions]:
        t = result.trained[tag]
        if t.model.epoch_monitor_ is not None:
            images.append((f"S/B = {tag}: test AUC per epoch of five members with the KL and with the reconstruction "
                           "error as score; the dots mark the epoch each member keeps (largest validation KL)",
                           save_figure(epoch_auc_figure(t.model.epoch_monitor_, t.model.best_epochs,
                                                        title=f"S/B = {tag}"), plots / f"epoch_auc_sb{tag}.png")))
    rows = []
    for tag in ["0", *fractions]:
        a, r, s = summary["auc"][tag], summary["rejection_at_half"][tag], summary["sic_at_half_ensemble"][tag]
        rows.append([tag, a["kl"], a["reco"], _pm(summary["auc_members"][tag]["kl"]), r["kl"], r["reco"],
                     _pm(summary["sic_at_half"][tag]), s["kl"], s["reco"],
                     "2.75 +0.21" if tag == "0.001" else "",
                     f"{np.mean(summary['training'][tag]['best_epochs']):.1f} "
                     f"({summary['training'][tag]['peak_confirmed_members']}/{config.vae.n_members} confirmed)"])
    kl_part = ("<p>Test events: " + html.escape(f"{len(split.test_bkg)} QCD, {len(split.test_sig)} "
                                               f"{summary['signal']}") + ". The ensemble score is the mean over "
               "members; the member figures are mean +- std over the members.</p>"
               + table(rows, ["S/B", "AUC KL", "AUC reco", "AUC KL members", "1/eps_b(0.5) KL", "1/eps_b(0.5) reco",
                              "SIC(0.5) KL members", "SIC(0.5) KL ensemble", "SIC(0.5) reco", "paper SIC(0.5)",
                              "mean kept epoch"]))
    hunt_rows = []
    for tag, h in summary["bump_hunt"].items():
        for region in ("inclusive", "kl_cut"):
            v = h[region]
            if "error" in v:
                hunt_rows.append([tag, region, v["signal_events"], "", "", "", v["error"][:80]])
                continue
            zg = f">= {v['z_global']:.2f}" if v["z_global_is_bound"] else f"{v['z_global']:.2f}"
            hunt_rows.append([tag, region, v["signal_events"], v["mass"], v["z_local"], zg,
                              v["s_over_sqrt_b_window"]])
    for tag in fractions[:2]:
        hunt = result.bump_fits[tag].get("kl_cut")
        if hunt is not None:
            images.append((f"S/B = {tag}: m_jj of the training data after the KL cut (top {config.kl_efficiency:g} "
                           "of the data) with its dijet fit", save_figure(
                               spectrum_figure(hunt.fit, xlabel=r"$m_{jj}$ [GeV]", title=f"S/B = {tag}, KL cut"),
                               plots / f"mjj_klcut_sb{tag}.png")))
            images.append((f"S/B = {tag}: local significance scan after the KL cut", save_figure(
                significance_scan_figure(hunt, xlabel=r"$m_{jj}$ [GeV]"), plots / f"scan_sb{tag}.png")))
    scul_rows = []
    for region, m in result.sculpting.items():
        rec = m.record()
        scul_rows.append([region, rec["n_effective"], rec.get("chi2_ndf", ""), rec.get("chi2_p_value", ""),
                          rec.get("max_abs_pull", ""), rec.get("smooth", rec.get("skipped", ""))])
        if m.check is not None:
            images.append((f"Background only (S/B = 0 ensemble, QCD test events): m_jj {region.replace('_', ' ')} "
                           "with its smooth fit and pulls", save_figure(
                               spectrum_figure(m.check.fit, xlabel=r"$m_{jj}$ [GeV]", title=f"QCD, {region}"),
                               plots / f"sculpting_{region}.png")))
    latent, control = result.latent, result.control
    names = list(DIJET_INPUT_NAMES)
    z0 = latent.z_test
    mjj_test = arrays.mjj[split.test]
    images += [
        (f"Latent characterisation at S/B = {summary['latent_grid']['signal_fraction']} (member 0): each decoded "
         "observable over (m_jj, z), with the 68% (dashed) and 95% (dotted) regions of signal (red) and background "
         "(black) test events (seed 004 fig. 7)",
         save_figure(latent_heatmaps_figure(latent.grid_z, latent.grid_m, latent.reconstructed, names,
                                            signal=(mjj_test[is_sig], z0[is_sig]),
                                            background=(mjj_test[~is_sig], z0[~is_sig]),
                                            title=f"S/B = {summary['latent_grid']['signal_fraction']}"),
                     plots / summary["latent_grid"]["heat_maps"])),
        ("The same on background only (S/B = 0, seed 004 fig. 8): the control",
         save_figure(latent_heatmaps_figure(control.grid_z, control.grid_m, control.reconstructed, names,
                                            signal=(mjj_test[is_sig], control.z_test[is_sig]),
                                            background=(mjj_test[~is_sig], control.z_test[~is_sig]),
                                            title="S/B = 0"),
                     plots / summary["latent_grid"]["control_heat_maps"])),
        ("Decoded observables averaged over z at each m_jj, over their mean (seed 004 fig. 9 in kind): with signal "
         "(line, mean over members) against background only (band, mean +- std over members); the signal window "
         "is shaded",
         save_figure(latent_marginals_figure(latent.grid_m, latent.marginal, control.marginal, names,
                                             window=config.characterisation.signal_window),
                     plots / summary["latent_grid"]["marginals"])),
        ("Median of the reconstructed minus median of the input observable over the input's std, signal and "
         "background test events, mean +- std over members (seed 004 fig. 6 inset)",
         save_figure(latent_medians_figure(latent.medians, names), plots / summary["latent_grid"]["medians"])),
    ]
    bump_rows = [[k, v["window_deviation"], v["outside_deviation"], v["control_spread"],
                  "yes" if v["visible"] else "no"] for k, v in summary["latent_bump"].items()]
    parts = (
        "<h2>KL divergence against reconstruction error</h2>" + kl_part
        + ceiling_html(summary.get("supervised_ceiling", {}), "the ensemble KL trained on background only (S/B = 0; "
                       "every S/B in summary.json, by_signal_fraction)"),
        "<h2>Bump hunt in m_jj after the KL cut</h2><p>On the training data (QCD as Poisson pseudo-data from its "
        "weighted histogram, plus the injected signal events), inclusive and after keeping the "
        f"{config.kl_efficiency:g} most anomalous by the ensemble KL; S/sqrt(B) counted in the signal window "
        f"{config.characterisation.signal_window[0]:g}-{config.characterisation.signal_window[1]:g} GeV.</p>"
        + table(hunt_rows, ["S/B", "selection", "signal events", "best mass [GeV]", "Z_local", "Z_global",
                            "S/sqrt(B) window"]),
        "<h2>Sculpting check on background only</h2><p>The S/B = 0 ensemble's KL cut on the independent QCD test "
        "events: a smooth fit must still describe the m_jj spectrum.</p>"
        + table(scul_rows, ["region", "effective events", "chi2/ndf", "chi2 p", "max |pull|", "smooth"]),
        "<h2>Latent characterisation</h2><p>Largest deviation of the marginals with signal from those on "
        "background only, inside the signal window and outside it (m_jj > 2.8 TeV); 'visible' means inside > 2 x "
        "outside.</p>" + table(bump_rows, ["observable", "window deviation", "outside deviation",
                                           "control spread (window)", "visible"]),
    )
    return Report("VAE with a KL anomaly score and latent characterisation (seed 004)", parts, tuple(images))


def summary_lines(summary: dict) -> list[str]:
    lines = []
    for tag, a in summary["auc"].items():
        sic = summary["sic_at_half"][tag]
        lines.append(f"S/B = {tag}: AUC KL {a['kl']:.3f}, reco {a['reco']:.3f}; SIC(eps_s = 0.5) KL "
                     f"{sic['mean']:.2f} +- {sic['std']:.2f} over members" + (" (paper 2.75 +0.21)" if tag == "0.001"
                                                                             else ""))
    for region, rec in summary["sculpting"]["m_jj"].items():
        if "smooth" in rec:
            lines.append(f"sculpting (background only, {region}): chi2/ndf {rec['chi2_ndf']:.2f}, smooth: "
                         f"{rec['smooth']}")
    lines += ceiling_lines(summary.get("supervised_ceiling", {}))
    visible = [k for k, v in summary["latent_bump"].items() if v["visible"]]
    lines.append(f"latent characterisation at S/B = {summary['latent_grid']['signal_fraction']}: bump visible in "
                 f"{', '.join(visible) or 'no observable'}")
    return lines
