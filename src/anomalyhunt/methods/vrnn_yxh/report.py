"""The ATLAS Y -> X H report sections (figures and tables) and the lines for the terminal."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ...plots import loss_figure, save_figure
from ...plots.jets import h_mass_regions_figure, jet_score_figure, significance_map_figure, tagger_roc_figure
from ..base import Report, Section
from ..base import html_table as table
from ..ceiling import ceiling_lines, ceiling_section

__all__ = ["report_sections", "summary_lines"]


def _closure_rows(summary: dict) -> list[list]:
    rows = []
    for name, label in (("closure", "background only"), ("closure_injected", "injected")):
        c = summary.get(name)
        if c:
            rows.append([label, c["observed"],
                         c["observed_error"], c["predicted"], c["predicted_error"], c["pull"],
                         c["predicted_without_reweighting"], "yes" if c["within_uncertainty"] else "NO",
                         c["nonclosure"], f"{c['events_observed']} / {c['events_source']}"])
    return rows


def _sideband_rows(summary: dict) -> list[list]:
    """Closure in each sideband with its normalisation from the other, and in the signal region (simulation
    truth) with it from both: flat against mass-dependent."""
    rows = []
    regions = dict(summary["closure"].get("sidebands", {}))
    if "signal_region_truth" in summary["closure"]:  # summaries written before it was recorded lack it
        regions["signal region (simulation truth)"] = summary["closure"]["signal_region_truth"]
    for name, c in regions.items():
        for kind in ("flat", "mass_dependent"):
            k = c[kind]
            if "error" in k and "predicted" not in k:
                rows.append([name.replace("_", " "), kind.replace("_", "-"), c["observed"], k["error"], "", "", "", ""])
                continue
            rows.append([name.replace("_", " "), kind.replace("_", "-"), c["observed"], c["observed_error"],
                         k["predicted"], np.hypot(k["predicted_stat_error"], k["predicted_fit_error"]), k["pull"],
                         k["nonclosure"]])
    return rows


def report_sections(result, plots: Path) -> Report:
    summary, config, arrays = result.summary(), result.config, result.arrays
    sm_test = result.test_bkg
    w = arrays.weight
    history = getattr(result.model, "history_", None)
    images = [("VRNN training: loss per epoch (reconstruction MSE + 0.1 x position-weighted KL); the kept epoch "
               "dotted", save_figure(loss_figure(history, title=summary["detector"]), plots / "vrnn_loss.png"))
              ] if history is not None else []
    images.append(("Jet-level performance per signal on the X-candidate jet: background rejection and SIC "
                   "against signal efficiency for the VRNN score, D2 (lower = tagged), tau21 (lower = tagged) and "
                   "the jet mass (higher = tagged); SM test jets as background",
                   save_figure(tagger_roc_figure(result.curves), plots / "tagger_roc.png")))
    dists = {"SM test jets": (result.score[sm_test], w[sm_test])}
    for name in summary["jet_auc"]:
        sel = (arrays.label == 1) & (arrays.process == name)
        dists[name] = (result.score[sel], np.ones(int(sel.sum())))
    calibrated = ("calibrated so that the training jets average 0.5 (our option)" if summary["direction"]["calibrated"]
                  else "1 - exp(-KL), Kahn et al.'s score")
    images.append((f"VRNN anomaly score of the X-candidate jet ({calibrated}; {summary['direction']['chosen']}, "
                   f"published: {summary['direction']['published']}); the working point score > "
                   f"{config.score_threshold:g}",
                   save_figure(jet_score_figure(dists, threshold=config.score_threshold),
                               plots / "jet_scores.png")))
    sm = arrays.label == 0
    masses = {f"SM, {label}": (arrays.h_mass[sm & (arrays.category == c)], w[sm & (arrays.category == c)])
              for label, c in (("0 tag", 0), ("double-b", 1))}
    for name in list(summary["jet_auc"])[:1]:
        sel = (arrays.label == 1) & (arrays.process == name)
        masses[name] = (arrays.h_mass[sel], np.ones(int(sel.sum())))
    images.append(("H-candidate mass of the SM events in the 0-tag and double-b categories (and a signal), with "
                   "the low sideband (validation), the Higgs window (CR0 -> SR) and the high sideband (weights "
                   "learnt)", save_figure(h_mass_regions_figure(masses, {"LSB": config.low_sideband,
                                                                          "H window": config.higgs_window,
                                                                          "HSB": config.high_sideband}),
                                          plots / "h_mass_regions.png")))
    for name, (observed, predicted, sig) in result.grids.items():
        images.append((f"{name.replace('_', ' ')}: local significance (Z_Bi) of the signal region over the (m_Y, m_X) "
                       "grid, observed / predicted in each cell; largest "
                       f"{sig.max_z_local:.2f} sigma local, {sig.z_global:.2f} sigma global",
                       save_figure(significance_map_figure(sig.z_local, config.m_y_edges, config.m_x_edges,
                                                           observed=observed, predicted=predicted,
                                                           title=name.replace("_", " ")),
                                   plots / f"grid_{name}.png")))
    auc_rows, wp_rows = [], []
    for name, aucs in summary["jet_auc"].items():
        auc_rows.append([name, aucs["vrnn"], aucs["d2"], aucs["tau21"], aucs["mass"],
                         summary["direction"]["raw_kl_auc"][name]])
        wp = summary["working_points"][name]
        wp_rows.append([name, wp["vrnn"]["signal_efficiency"], wp["vrnn"]["background_efficiency"],
                        wp["vrnn"]["sb_gain"], wp["d2"]["signal_efficiency"], wp["d2"]["background_efficiency"],
                        wp["d2"]["sb_gain"], wp["vrnn"]["sb_gain"] / wp["d2"]["sb_gain"]])
    tr, sc = summary["training"], summary["scoring"]
    epochs = (f"{tr['epochs_run']} epochs, kept {tr['best_epoch']}, {tr['seconds_per_epoch']:.2f} s per epoch on "
              f"{tr['device']}" if "epochs_run" in tr else f"{tr['seconds']:.1f} s")
    tag_part = (
        "<p>" + html.escape(
            f"{summary['detector']} trained on {tr['jets']} SM X-candidate jets ({epochs}); scoring "
            f"{sc['jets_per_second']:.0f} jets/s. Direction: {summary['direction']['chosen']} (setting "
            f"'{summary['direction']['setting']}'); the raw-KL AUC column says which way each signal lies "
            "(above 1/2: higher KL than SM).") + "</p>"
        + table(auc_rows, ["signal", "AUC VRNN", "AUC D2", "AUC tau21", "AUC mass", "AUC raw KL"])
        + _mass_dependence_part(summary)
        + "<p>" + html.escape(f"S:B gain = signal efficiency / background efficiency at the working point: VRNN "
                              f"score > {config.score_threshold:g} and D2 < {config.d2_cut:g} (published: ~1.25 "
                              "for the VRNN, about like D2 for 2-prong X, ~10x better than D2 for dark jets).")
        + "</p>" + table(wp_rows, ["signal", "eps_s VRNN", "eps_b VRNN", "S:B gain VRNN", "eps_s D2", "eps_b D2",
                                   "S:B gain D2", "VRNN / D2"]))
    closure_part = (
        "<p>" + html.escape(
            "Weights for 0-tag -> double-b events learnt by a 3 x 20 classifier on the H candidate (log pT, eta, "
            "tau21, tau32) in the high sideband (HSB0 -> HSB1), normalised to the HSB1 yield, then applied to "
            "the low sideband (validation: LSB0 -> LSB1) and to the Higgs window (CR0 -> SR), always with the X "
            "jet anomalous. Yields in units where the SM weights sum to the number of selected SM events; "
            "errors from the simulation's statistics.") + "</p>"
        + table(_closure_rows(summary), ["search", "LSB1 observed", "+-", "LSB1 predicted", "+-", "pull",
                                         "predicted without reweighting", "within 2 sigma", "|1 - obs/pred|",
                                         "events (obs / src)"])
        + "<p>" + html.escape(
            "Double-b / no-tag yield ratio of the SM by H-candidate mass region (anomaly-inclusive): "
            + ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in summary["closure"]["double_b_to_no_tag"].items())
            + ". The method assumes it does not depend on the mass; where it does, the validation region does "
              "not close, and " + ("its non-closure is added to every signal-region prediction as a relative "
                                   "uncertainty." if config.nonclosure_systematic else
                                   "(nonclosure_systematic off) the predictions carry statistical errors only."))
        + "</p><p>" + html.escape(
            "Each sideband predicted with the normalisation taken from the other one: flat (the other sideband's "
            "double-b / reweighted no-tag ratio) and mass-dependent (that ratio fitted as exp(a + b m_H) in the "
            "other sideband's bins and extrapolated, its fit error in the +-). The signal region uses the "
            + ("mass-dependent fit over both sidebands (our option)." if config.transfer_factor == "mass_dependent"
               else "flat normalisation of the high sideband (the published estimate).")
            + " Its last rows, simulation only (data keeps the signal region blinded): the signal region's SM "
              "yield against both predictions, flat from the high sideband and mass-dependent from both.") + "</p>"
        + table(_sideband_rows(summary), ["region", "transfer factor", "observed", "+-", "predicted", "+-",
                                          "pull", "|1 - obs/pred|"]))
    grid_rows = []
    for name, g in summary["grid"].items():
        grid_rows.append([name, g["max_z_local"], f"{g['cell']['m_y'][0]:g}-{g['cell']['m_y'][1]:g}",
                          f"{g['cell']['m_x'][0]:g}-{g['cell']['m_x'][1]:g}", g["observed_in_cell"],
                          g["predicted_in_cell"], g["z_global"], g["p_global"], g["stat_only"]["max_z_local"],
                          g["stat_only"]["z_global"], g["cells_tested"], g["observed_total"], g["predicted_total"],
                          g["injected_in_signal_region"]])
    grid_part = ("<p>" + html.escape(
        "Signal region: H candidate in the Higgs window, double-b tagged, X jet anomalous. The observation is a "
        "Poisson draw from the weighted simulation (the same draw for both searches) plus the injected signal "
        "events; Z_Bi per cell from the "
        f"observed count and the predicted background with its error; global significance from {config.n_toys} "
        "background-only pseudo-experiments of the whole grid (published: largest excess 1.4 sigma global).")
        + "</p>" + table(grid_rows, ["search", "max Z local", "m_Y [GeV]", "m_X [GeV]", "observed", "predicted",
                                     "Z global", "p global", "max Z local (stat. only)", "Z global (stat. only)",
                                     "cells", "observed total", "predicted total", "injected in SR"]))
    tagging = [im for im in images if not im[0].startswith(("H-candidate", "background only", "injected"))]
    return Report(f"Anomalous-jet tagging ({summary['detector']}) in a Y -> X H search (after ATLAS, PRD 108 (2023) "
                  "052009)", (
                      Section("Anomalous-jet tagging", tag_part, tuple(tagging)),
                      ceiling_section(summary.get("supervised_ceiling", {}),
                                      f"the {summary['detector']} score (its chosen direction)"),
                      Section("Background estimate and its closure", closure_part,
                              tuple(im for im in images if im[0].startswith("H-candidate"))),
                      Section("Significance over the (m_Y, m_X) grid", grid_part,
                              tuple(im for im in images if im[0].startswith(("background only", "injected"))))))


def summary_lines(summary: dict) -> list[str]:
    lines = []
    for name, aucs in summary["jet_auc"].items():
        lines.append(f"{name}: jet AUC VRNN {aucs['vrnn']:.3f}, D2 {aucs['d2']:.3f}, tau21 {aucs['tau21']:.3f}, "
                     f"mass {aucs['mass']:.3f}; S:B gain {summary['sb_gain'][name]:.2f} (D2 < cut "
                     f"{summary['d2_gain'][name]:.2f})")
    lines += ceiling_lines(summary.get("supervised_ceiling", {}))
    c = summary["closure"]
    lines.append(f"closure (LSB1): observed {c['observed']:.1f} +- {c['observed_error']:.1f}, predicted "
                 f"{c['predicted']:.1f} +- {c['predicted_error']:.1f} (pull {c['pull']:.2f})")
    for name, g in summary["grid"].items():
        lines.append(f"grid ({name}): largest local Z {g['max_z_local']:.2f}, global {g['z_global']:.2f}")
    return lines


def _mass_dependence_part(summary: dict) -> str:
    """The score's dependence on the X-candidate mass: the QCD rank correlation, and the AUCs in mass bins."""
    md = summary["mass_dependence"]
    rows = []
    for name, bins in md["auc_in_x_mass_bins"].items():
        for b in bins:
            rows.append([name, f"{b['x_mass'][0]:g}-{b['x_mass'][1]:g}", b["auc"], b["signal_jets"],
                         b["background_jets"]])
    return ("<p>" + html.escape(
        f"The score depends on the jet mass: its rank correlation with the X-candidate mass over the SM test jets is "
        f"{md['qcd_score_mass_rank_correlation']:.2f}. At fixed X mass (AUC within each bin, SM test jets of the same "
        "bin as background):") + "</p>" + table(rows, ["signal", "X mass [GeV]", "AUC", "signal jets", "SM jets"]))
