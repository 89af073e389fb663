"""Particle level -> reconstructed objects, on whole batches of events (no per-particle Python loops).

Isolated e/mu/gamma are found with a cone-energy fraction; jets are clustered with fastjet's awkward
multi-event interface from the remaining visible particles; b-jets are jets within dR < 0.4 of a b hadron
(tagged with the preset's efficiency, light jets mistagged); jets fake electrons/muons with fixed
probabilities; a parametric detector smears every object, and MET is the negative vector sum of all
visible particles with the objects replaced by their smeared versions.
"""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np

from ..events.schema import LEPTON_COLLECTIONS
from ..native_output import swallow_fastjet_banner
from .detector import DetectorPreset, delphes_cms_electron_sigma, delphes_cms_muon_sigma
from .substructure import d2, nsubjettiness

__all__ = ["INVISIBLE_IDS", "reconstruct", "select", "delta_r", "is_b_hadron"]

# Neutrinos and the usual invisible BSM states (neutralino, gravitino, DM candidates 51-53).
INVISIBLE_IDS = np.array([12, 14, 16, 1000012, 1000014, 1000016, 1000022, 1000039, 51, 52, 53])
_ETA_DETECTOR = 4.9
_ELECTRON_MASS, _MUON_MASS = 0.000511, 0.10566


def delta_r(eta1, phi1, eta2, phi2):
    """Distance in (eta, phi), phi difference wrapped into [-pi, pi)."""
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return np.sqrt((eta1 - eta2) ** 2 + dphi**2)


def is_b_hadron(pdg_id):
    """True for hadrons carrying a b quark (mesons 5xx, baryons 5xxx), from the PDG numbering scheme."""
    aid = abs(pdg_id)
    return ((aid // 100) % 10 == 5) | ((aid // 1000) % 10 == 5)


def _with_kinematics(p: ak.Array) -> ak.Array:
    """Add pt, eta, phi (from px, py, pz, e) to a jagged record array."""
    pt = np.hypot(p.px, p.py)
    safe_pt = ak.where(pt > 0, pt, 1e-12)
    return ak.with_field(
        ak.with_field(ak.with_field(p, pt, "pt"), np.arcsinh(p.pz / safe_pt), "eta"),
        np.arctan2(p.py, p.px),
        "phi",
    )


def _jagged_isin(values: ak.Array, test_elements) -> ak.Array:
    """np.isin for a singly-jagged array."""
    flat = np.isin(ak.to_numpy(ak.flatten(values)), test_elements)
    return ak.unflatten(flat, ak.num(values))


def _mass(p: ak.Array):
    return np.sqrt(np.maximum(p.e**2 - p.px**2 - p.py**2 - p.pz**2, 0.0))


def _scale(p: ak.Array, factor) -> ak.Array:
    """Scale the four-momentum (direction and E/|p| kept), refreshing pt."""
    out = ak.zip({k: p[k] * factor for k in ("px", "py", "pz", "e")})
    for name in p.fields:
        if name not in ("px", "py", "pz", "e", "pt"):
            out = ak.with_field(out, p[name], name)
    return ak.with_field(out, p.pt * factor, "pt")


def _gaussian_factor(sigma, rng: np.random.Generator):
    """Per-object multiplicative smearing 1 + sigma * N(0, 1), floored so energies stay positive."""
    counts = ak.num(sigma)
    flat = ak.to_numpy(ak.flatten(sigma))
    factor = np.maximum(1.0 + flat * rng.standard_normal(flat.size), 0.01)
    return ak.unflatten(factor, counts)


def _remove_positions(n_per_event, positions) -> ak.Array:
    """Boolean jagged mask (shape given by `n_per_event`) that is False at the given local positions."""
    counts = np.asarray(n_per_event, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    keep = np.ones(int(counts.sum()), dtype=bool)
    keep[ak.to_numpy(ak.flatten(positions + starts))] = False
    return ak.unflatten(keep, counts)


def _near_any(a: ak.Array, b: ak.Array, dr: float):
    """For each object of `a`, whether any object of `b` in the same event lies within `dr`."""
    pairs = ak.cartesian({"a": a, "b": b}, nested=True)
    return ak.any(delta_r(pairs.a.eta, pairs.a.phi, pairs.b.eta, pairs.b.phi) < dr, axis=2)


def _sequence(inputs: ak.Array, r: float):
    swallow_fastjet_banner()
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, r)
    momenta = ak.zip({"px": inputs.px, "py": inputs.py, "pz": inputs.pz, "E": inputs.e})
    return fastjet.ClusterSequence(momenta, jetdef)


def _four_momenta(p: ak.Array) -> ak.Array:
    return _with_kinematics(ak.zip({"px": p.px, "py": p.py, "pz": p.pz, "e": p.E}))


def _cluster(inputs: ak.Array, *, r: float, pt_min: float) -> ak.Array:
    return _four_momenta(_sequence(inputs, r).inclusive_jets(min_pt=pt_min))


def _fatjets(inputs: ak.Array, b_hadrons: ak.Array, *, preset: DetectorPreset,
             rng: np.random.Generator) -> ak.Array:
    """Large-R jets with tau_1..3 and D2 from their (particle-level) constituents and the number of weakly
    decaying b hadrons within R of their axis (`n_b`, for a parametric double-b tag), smeared like jets, cut in
    pT/eta, with up to `preset.fatjet_constituents` constituents (highest pT first) when asked."""
    sequence = _sequence(inputs, preset.fatjet_r)
    pt_min = 0.7 * preset.fatjet_pt_min  # below threshold, so that smearing can move jets across it
    jets_true = _four_momenta(sequence.inclusive_jets(min_pt=pt_min))
    constituents = _four_momenta(sequence.constituents(min_pt=pt_min))
    counts = ak.num(jets_true)
    flat_constituents = ak.flatten(constituents, axis=1)
    taus = nsubjettiness(flat_constituents, r0=preset.fatjet_r, axes=preset.nsubjettiness_axes)
    d2_values = d2(flat_constituents)
    pairs = ak.cartesian({"j": jets_true, "b": b_hadrons}, nested=True)
    n_b = ak.sum(delta_r(pairs.j.eta, pairs.j.phi, pairs.b.eta, pairs.b.phi) < preset.fatjet_r, axis=2)
    sigma = np.sqrt(preset.jet_stochastic**2 / jets_true.e + preset.jet_constant**2)
    jets = _scale(jets_true, _gaussian_factor(sigma, rng))
    fields = {"pt": jets.pt, "eta": jets.eta, "phi": jets.phi, "mass": _mass(jets)}
    for i in range(3):
        fields[f"tau{i + 1}"] = ak.unflatten(taus[:, i], counts)
    fields["d2"] = ak.unflatten(d2_values, counts)
    if preset.fatjet_constituents:
        order = ak.argsort(constituents.pt, axis=2, ascending=False, stable=True)
        kept = constituents[order][:, :, : preset.fatjet_constituents]
        fields["constituents"] = ak.zip({k: ak.values_astype(kept[k], np.float32) for k in ("pt", "eta", "phi")})
    out = ak.zip({k: v if k == "constituents" else ak.values_astype(v, np.float32) for k, v in fields.items()}
                 | {"n_b": ak.values_astype(n_b, np.int8)}, depth_limit=2)
    out = out[(out.pt > preset.fatjet_pt_min) & (abs(out.eta) < preset.fatjet_eta_max)]
    return out[ak.argsort(out.pt, ascending=False, stable=True)]


def _output(p: ak.Array, *, charge=None) -> ak.Array:
    """Objects in the event-contract layout (float32; int8 charge), sorted by descending pT."""
    fields = {
        "pt": ak.values_astype(p.pt, np.float32),
        "eta": ak.values_astype(p.eta, np.float32),
        "phi": ak.values_astype(p.phi, np.float32),
        "mass": ak.values_astype(_mass(p), np.float32),
    }
    if charge is not None:
        fields["charge"] = ak.values_astype(charge, np.int8)
    out = ak.zip(fields)
    return out[ak.argsort(out.pt, ascending=False, stable=True)]


def _fake_hypotheses(jets: ak.Array, *, preset: DetectorPreset, rng: np.random.Generator):
    """Entries for a sample whose leptons are all fakes (QCD): one per jet that could make a selected lepton.

    A jet is eligible when a lepton with its momentum would pass the preset's lepton threshold, selection
    threshold and acceptance; each fakes an e or mu with probability p = fake_e + fake_mu. Instead of drawing
    that rare outcome, an event with n eligible jets becomes n entries, entry k being "jet k faked and no other
    did", made an electron (probability fake_e / p) or a muon, with weight factor p (1 - p)^(n - 1). The
    factors sum to the probability of exactly one fake; two fakes in one event (order p^2) and the no-fake
    branch are left out. Near-equal factors keep the weights flat, so unweighting keeps most entries.
    Returns, per entry: the source event, its rank among its event's eligible jets and the factor, and over
    the entries' jets the flat (electron, muon) fake masks.
    """
    p = preset.fake_e + preset.fake_mu
    threshold = max(preset.selection_lepton_pt, preset.lepton_pt_min)
    counts = ak.to_numpy(ak.num(jets))
    eligible = ak.to_numpy(ak.flatten((jets.pt > threshold) & (abs(jets.eta) < preset.lepton_eta_max)))
    n_eligible = np.bincount(np.repeat(np.arange(len(counts)), counts)[eligible], minlength=len(counts))
    source = np.repeat(np.arange(len(counts)), n_eligible)
    rank = np.arange(len(source)) - np.repeat(np.cumsum(n_eligible) - n_eligible, n_eligible)
    chosen = ak.to_numpy(ak.flatten(ak.local_index(jets)))[eligible]  # the faking jet's position, per entry
    entry_counts = counts[source]
    entry_of_jet = np.repeat(np.arange(len(source)), entry_counts)
    position = np.arange(int(entry_counts.sum())) - np.repeat(np.cumsum(entry_counts) - entry_counts, entry_counts)
    fakes = position == chosen[entry_of_jet]
    electron = (rng.random(len(source)) < preset.fake_e / p)[entry_of_jet]
    factor = p * (1.0 - p) ** (n_eligible[source] - 1)
    return source, rank, factor, fakes & electron, fakes & ~electron


def reconstruct(particles: ak.Array, b_hadrons: ak.Array, *, preset: DetectorPreset,
                rng: np.random.Generator, forced_fake: bool = False) -> ak.Array:
    """Reconstruct objects and MET for a batch of events.

    particles: final-state particles per event, records with `id`, `px`, `py`, `pz`, `e` (GeV).
    b_hadrons: b hadrons per event (any status), records with `px`, `py`, `pz`, `e`.
    Returns one record per event with `jets`, `bjets`, `muons`, `electrons`, `photons` and `met` (and
    `fatjets` when the preset makes large-R jets), in the event-contract layout (no selection applied: see
    `select`). With `forced_fake`, each event becomes one entry per jet that could fake a selected lepton,
    with that jet made the lepton (`_fake_hypotheses`), and the records carry `fake_source` (the input event),
    `fake_rank` (the jet's rank among the eligible ones) and `fake_weight` (the factor the event weight must be
    multiplied by).
    """
    visible = particles[~_jagged_isin(abs(particles.id), INVISIBLE_IDS) & ((particles.px != 0) | (particles.py != 0))]
    visible = _with_kinematics(visible)
    visible = visible[abs(visible.eta) < _ETA_DETECTOR]
    aid = abs(visible.id)
    lepton_like = ((aid == 11) | (aid == 13)) & (visible.pt > preset.lepton_pt_min)
    lepton_like = lepton_like & (abs(visible.eta) < preset.lepton_eta_max)
    photon_like = (aid == 22) & (visible.pt > preset.photon_pt_min) & (abs(visible.eta) < preset.photon_eta_max)
    is_candidate = lepton_like | photon_like

    # Isolation: the candidate carries more than iso_fraction of the energy in its cone (itself included).
    candidates = visible[is_candidate]
    pairs = ak.cartesian({"c": candidates, "v": visible}, nested=True)
    in_cone = delta_r(pairs.c.eta, pairs.c.phi, pairs.v.eta, pairs.v.phi) < preset.iso_cone
    cone_energy = ak.sum(pairs.v.e * in_cone, axis=2)
    isolated = candidates.e > preset.iso_fraction * cone_energy
    isolated_positions = ak.local_index(visible)[is_candidate][isolated]
    jet_inputs = visible[_remove_positions(ak.num(visible), isolated_positions)]
    iso = candidates[isolated]

    # Jets, clustered a little below threshold so that smearing can move them across it.
    jets_true = _cluster(jet_inputs, r=preset.jet_r, pt_min=0.7 * preset.jet_pt_min)
    jet_sigma = np.sqrt(preset.jet_stochastic**2 / jets_true.e + preset.jet_constant**2)
    jets = _scale(jets_true, _gaussian_factor(jet_sigma, rng))

    aid_iso = abs(iso.id)
    muon_sigma = np.sqrt(preset.mu_constant**2 + (preset.mu_linear * iso.pt) ** 2)
    em_sigma = np.sqrt(preset.em_stochastic**2 / iso.e + preset.em_constant**2)
    if preset.lepton_resolution == "delphes_cms":
        muon_sigma = delphes_cms_muon_sigma(iso.pt, iso.eta)
        em_sigma = ak.where(aid_iso == 11, delphes_cms_electron_sigma(iso.pt, iso.eta, iso.e), em_sigma)
    iso_smeared = _scale(iso, _gaussian_factor(ak.where(aid_iso == 13, muon_sigma, em_sigma), rng))

    # MET: all visible particles, with the objects replaced by their smeared versions.
    met_x = -ak.sum(visible.px, axis=1) - ak.sum(jets.px - jets_true.px, axis=1)
    met_x = met_x - ak.sum(iso_smeared.px - iso.px, axis=1)
    met_y = -ak.sum(visible.py, axis=1) - ak.sum(jets.py - jets_true.py, axis=1)
    met_y = met_y - ak.sum(iso_smeared.py - iso.py, axis=1)

    # Jet kinematic cuts (E_T or pT), b-tagging by b-hadron match, fake leptons from jets.
    jet_et = jets.e * jets.pt / np.sqrt(jets.pt**2 + jets.pz**2)
    jets = jets[((jet_et if preset.jet_min_uses_et else jets.pt) > preset.jet_pt_min)
                & (abs(jets.eta) < preset.jet_eta_max)]
    b_hadrons = _with_kinematics(b_hadrons[b_hadrons.px**2 + b_hadrons.py**2 > 25.0])
    truth_b = _near_any(jets, b_hadrons, 0.4)
    counts = ak.num(jets)
    n_jets = int(ak.sum(counts))
    u_tag, u_fake, u_charge = rng.random(n_jets), rng.random(n_jets), rng.random(n_jets)
    flat_truth_b = ak.to_numpy(ak.flatten(truth_b))
    tagged = ak.unflatten(np.where(flat_truth_b, u_tag < preset.btag_eff, u_tag < preset.btag_mistag), counts)
    fake_charge = ak.unflatten(np.where(u_charge < 0.5, -1, 1), counts)
    if forced_fake:
        source, rank, fake_weight, fake_e, fake_mu = _fake_hypotheses(jets, preset=preset, rng=rng)
        jets, tagged, fake_charge, iso_smeared, aid_iso, met_x, met_y, jet_inputs, b_hadrons = (
            x[source] for x in (jets, tagged, fake_charge, iso_smeared, aid_iso, met_x, met_y, jet_inputs,
                                b_hadrons))
        counts = ak.num(jets)
    else:
        fake_e = u_fake < preset.fake_e
        fake_mu = (u_fake >= preset.fake_e) & (u_fake < preset.fake_e + preset.fake_mu)
    fake_e, fake_mu = (ak.unflatten(x, counts) for x in (fake_e, fake_mu))
    plain = ~(fake_e | fake_mu)

    lepton_charge = -np.sign(iso_smeared.id)
    electrons = ak.concatenate([iso_smeared[aid_iso == 11], _set_mass(jets[fake_e], _ELECTRON_MASS)], axis=1)
    e_charge = ak.concatenate([lepton_charge[aid_iso == 11], fake_charge[fake_e]], axis=1)
    muons = ak.concatenate([iso_smeared[aid_iso == 13], _set_mass(jets[fake_mu], _MUON_MASS)], axis=1)
    mu_charge = ak.concatenate([lepton_charge[aid_iso == 13], fake_charge[fake_mu]], axis=1)
    photons = iso_smeared[aid_iso == 22]
    bjets, light = jets[plain & tagged], jets[plain & ~tagged]

    keep_e = (electrons.pt > preset.lepton_pt_min) & (abs(electrons.eta) < preset.lepton_eta_max)
    keep_mu = (muons.pt > preset.lepton_pt_min) & (abs(muons.eta) < preset.lepton_eta_max)
    keep_ph = photons.pt > preset.photon_pt_min
    if preset.overlap_dr > 0:
        all_jets = ak.concatenate([light, bjets], axis=1)
        keep_e = keep_e & ~_near_any(electrons, all_jets, preset.overlap_dr)
        keep_mu = keep_mu & ~_near_any(muons, all_jets, preset.overlap_dr)
        keep_ph = keep_ph & ~_near_any(photons, all_jets, preset.overlap_dr)

    met_pt = np.hypot(met_x, met_y)
    record = {
        "jets": _output(light),
        "bjets": _output(bjets),
        "muons": _output(muons[keep_mu], charge=mu_charge[keep_mu]),
        "electrons": _output(electrons[keep_e], charge=e_charge[keep_e]),
        "photons": _output(photons[keep_ph]),
        "met": ak.zip({"pt": ak.values_astype(met_pt, np.float32),
                       "phi": ak.values_astype(np.arctan2(met_y, met_x), np.float32)}),
    }
    if preset.fatjet_r:
        # Large-R jets are measured alongside the small-R ones (same inputs); they do not enter MET twice.
        record["fatjets"] = _fatjets(jet_inputs, b_hadrons, preset=preset, rng=rng)
    if forced_fake:
        record.update(fake_source=source, fake_rank=rank, fake_weight=fake_weight)
    return ak.zip(record, depth_limit=1)


def _set_mass(p: ak.Array, mass: float) -> ak.Array:
    """Give objects a new mass at fixed three-momentum (a jet faking a lepton)."""
    energy = np.sqrt(p.px**2 + p.py**2 + p.pz**2 + mass**2)
    return ak.with_field(p, energy, "e")


def select(objects: ak.Array, *, preset: DetectorPreset):
    """Boolean mask of events passing the preset's selection."""
    n = len(objects)
    mask = np.ones(n, dtype=bool)
    leptons = ak.concatenate([objects.electrons.pt, objects.muons.pt], axis=1)
    all_jets = ak.concatenate([objects.jets.pt, objects.bjets.pt], axis=1)
    if preset.min_leptons:
        mask &= ak.to_numpy(ak.sum(leptons > preset.selection_lepton_pt, axis=1) >= preset.min_leptons)
    if preset.min_jets:
        mask &= ak.to_numpy(ak.sum(all_jets > preset.selection_jet_pt, axis=1) >= preset.min_jets)
    if preset.leading_jet_pt:
        lead = ak.fill_none(ak.max(all_jets, axis=1), 0.0)
        mask &= ak.to_numpy(lead > preset.leading_jet_pt)
    if preset.leading_fatjet_pt:
        lead = ak.fill_none(ak.max(objects.fatjets.pt, axis=1), 0.0)
        mask &= ak.to_numpy(lead > preset.leading_fatjet_pt)
    if preset.four_lepton:
        for name in LEPTON_COLLECTIONS:
            coll = objects[name]
            mask &= ak.to_numpy((ak.num(coll) == 2) & (ak.sum(coll.charge, axis=1) == 0))
    return mask
