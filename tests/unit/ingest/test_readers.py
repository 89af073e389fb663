"""Readers of outside formats, tested on real files written by CMS, ATLAS and generator software
(../shared/testdata), against a per-event reference computed here directly from the uproot branches."""

from __future__ import annotations

import math
import os
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from anomalyhunt import events as ev
from anomalyhunt import ingest
from anomalyhunt.events.io import read_metadata
from anomalyhunt.exceptions import ConfigError, EventFileError
from anomalyhunt.features import rmm
from anomalyhunt.ingest.formats import get_reader, get_selection, read_lhe_header

TESTDATA = Path(os.environ.get("ANOMALYHUNT_TESTDATA", Path(__file__).resolve().parents[4] / "shared" / "testdata"))
needs_testdata = pytest.mark.skipif(not TESTDATA.is_dir(), reason=f"{TESTDATA} (the shared real test files) is absent")
NANO_FILES = ["nanoAOD_2015_CMS_Open_Data_ttbar.root", "nano_tt_v12.root", "pfnano.root"]
LHE_FILES = ["pylhe-testfile-madgraph-2.0.0-wbj.lhe", "pylhe-testfile-pythia-8.3.14-weakbosons.lhe"]


def _dr(eta1, phi1, eta2, phi2):
    dphi = (phi1 - phi2 + math.pi) % (2 * math.pi) - math.pi
    return math.hypot(eta1 - eta2, dphi)


def _check_rmm(events):
    m = rmm(events, preset="T5N10")
    assert np.isfinite(m).all()
    assert m.min() >= 0 and m.max() <= 1  # |eta| < 2.5 everywhere keeps even the rapidity cells below 1


# ---------------------------------------------------------------- CMS NanoAOD
def _nano_reference(path: Path, xsec: float):
    """Per-event loops over the raw branches, following the documented cms_nanoaod selection."""
    t = uproot.open(path)["Events"]
    names = ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_jetId", "Jet_btagDeepFlavB", "Muon_pt", "Muon_eta", "Muon_phi",
             "Muon_tightId", "Muon_pfRelIso04_all", "Electron_pt", "Electron_eta", "Electron_phi", "Electron_cutBased",
             "Electron_pfRelIso03_all", "MET_pt", "genWeight"]
    has_photons = "Photon_pt" in t
    if has_photons:
        names += ["Photon_pt", "Photon_eta", "Photon_phi", "Photon_cutBased"]
    a = t.arrays(names, library="np")
    total = float(np.sum(a["genWeight"], dtype=np.float64))
    out = []
    for i in range(t.num_entries):
        mu = [(a["Muon_eta"][i][k], a["Muon_phi"][i][k]) for k in range(len(a["Muon_pt"][i]))
              if a["Muon_pt"][i][k] > 10 and abs(a["Muon_eta"][i][k]) < 2.4 and a["Muon_tightId"][i][k]
              and a["Muon_pfRelIso04_all"][i][k] < 0.15]
        el = [(a["Electron_eta"][i][k], a["Electron_phi"][i][k]) for k in range(len(a["Electron_pt"][i]))
              if a["Electron_pt"][i][k] > 10 and abs(a["Electron_eta"][i][k]) < 2.5
              and a["Electron_cutBased"][i][k] >= 3 and a["Electron_pfRelIso03_all"][i][k] < 0.15]
        ph = []
        if has_photons:
            ph = [(a["Photon_eta"][i][k], a["Photon_phi"][i][k]) for k in range(len(a["Photon_pt"][i]))
                  if a["Photon_pt"][i][k] > 20 and abs(a["Photon_eta"][i][k]) < 2.5 and a["Photon_cutBased"][i][k] >= 2]
        jets, bjets = [], []
        for k in range(len(a["Jet_pt"][i])):
            pt, eta, phi = a["Jet_pt"][i][k], a["Jet_eta"][i][k], a["Jet_phi"][i][k]
            if not (pt > 30 and abs(eta) < 2.4 and a["Jet_jetId"][i][k] & 2):
                continue
            if any(_dr(eta, phi, e, p) < 0.4 for e, p in mu + el + ph):
                continue
            (bjets if a["Jet_btagDeepFlavB"][i][k] > 0.2783 else jets).append(pt)
        out.append({"n_jets": len(jets), "n_bjets": len(bjets), "n_mu": len(mu), "n_el": len(el), "n_ph": len(ph),
                    "lead_jet": max(jets, default=0.0), "met": a["MET_pt"][i],
                    "weight": xsec * float(a["genWeight"][i]) / total})
    return out


@needs_testdata
@pytest.mark.parametrize("name", NANO_FILES)
def test_nanoaod_matches_a_per_event_reference(name):
    path = TESTDATA / name
    assert ingest.detect_format(path) == "nanoaod"
    events = ingest.read(path, cross_section_pb=832.0, process="ttbar")
    assert ev.schema_problems(events) == []
    reference = _nano_reference(path, 832.0)
    assert len(events) == len(reference)
    got = {"n_jets": ak.num(events.jets), "n_bjets": ak.num(events.bjets), "n_mu": ak.num(events.muons),
           "n_el": ak.num(events.electrons), "n_ph": ak.num(events.photons),
           "lead_jet": ak.fill_none(ak.max(events.jets.pt, axis=1), 0.0), "met": events.met.pt, "weight": events.weight}
    for key, values in got.items():
        np.testing.assert_allclose(ak.to_numpy(values), [r[key] for r in reference], rtol=1e-6, err_msg=key)
    assert math.isclose(float(ak.sum(events.weight)), 832.0, rel_tol=1e-9)
    assert sum(r["n_jets"] + r["n_bjets"] for r in reference) > 0  # the reference does not pass vacuously
    assert set(events.process.to_list()) == {"ttbar"}
    _check_rmm(events)


@needs_testdata
def test_nanoaod_selection_presets_are_recorded_and_can_be_changed(tmp_path):
    path = TESTDATA / NANO_FILES[1]
    manifest = ingest.import_files(ingest.ImportConfig(inputs=(str(path),), cuts={"jet_pt_min": "60"}), tmp_path / "d",
                               workers=0)
    assert manifest["object_selection"]["jet_pt_min"] == 60.0
    assert manifest["object_selection"]["name"] == "cms_nanoaod+jet_pt_min=60"
    assert any("no Photon_*" in note for note in manifest["notes"])
    assert manifest["weight_convention"].startswith("no cross section given")
    _, (summary,) = ingest.dataset_summary(str(tmp_path / "d"))  # `info` says what the 1 pb means
    assert summary.cross_section_pb == pytest.approx(1.0) and "shapes only" in summary.normalisation
    events = ingest.read(tmp_path / "d")
    jets = ak.concatenate([events.jets.pt, events.bjets.pt], axis=1)
    assert ak.all(jets > 60) and ak.sum(ak.num(jets)) > 0
    with pytest.raises(ConfigError, match="has no field 'jet_pt'"):
        ingest.plan_import(ingest.ImportConfig(inputs=(str(path),), cuts={"jet_pt": "60"}))
    with pytest.raises(ConfigError, match="jet_id must be one of"):
        ingest.plan_import(ingest.ImportConfig(inputs=(str(path),), cuts={"jet_id": "superb"}))


@needs_testdata
def test_pfnano_import_through_dask_equals_in_process_reading(tmp_path):
    path = TESTDATA / NANO_FILES[0]
    config = ingest.ImportConfig(inputs=(str(path),), cross_section_pb=832.0, chunk_size=70, process="tt")
    manifest = ingest.import_files(config, tmp_path / "d", workers=2)
    assert manifest["complete"] and manifest["n_chunks"] == 3 and manifest["n_generated"] == 200
    on_dask = ingest.read(tmp_path / "d")
    direct = ingest.read(path, cross_section_pb=832.0, process="tt")
    assert on_dask.to_list() == direct.to_list()
    summary_events, procs = ingest.load_samples([str(tmp_path / "d")])
    assert len(summary_events) == 200 and set(procs) == {"tt"}


# ---------------------------------------------------------------- ATLAS PHYSLITE
def _physlite_reference(path: Path, btag_cut: float):
    t = uproot.open(path)["CollectionTree"]
    jb, eb, mb, pb = "AnalysisJetsAuxDyn.", "AnalysisElectronsAuxDyn.", "AnalysisMuonsAuxDyn.", "AnalysisPhotonsAuxDyn."
    names = [jb + k for k in ("pt", "eta", "phi", "NNJvtPass")] + [jb + "btaggingLink"]
    names += [eb + k for k in ("pt", "eta", "phi", "DFCommonElectronsLHMedium",
                               "ptvarcone30_Nonprompt_All_MaxWeightTTVALooseCone_pt1000")]
    names += [mb + k for k in ("pt", "eta", "phi", "quality", "ptvarcone30_Nonprompt_All_MaxWeightTTVA_pt1000")]
    names += [pb + k for k in ("pt", "eta", "phi", "DFCommonPhotonsIsEMTight", "DFCommonPhotonsCleaning")]
    names += ["BTagging_AntiKt4EMPFlowAuxDyn.DL1dv01_" + f for f in ("pb", "pc", "pu")]
    names += ["MET_Core_AnalysisMETAuxDyn.name", "MET_Core_AnalysisMETAuxDyn.mpx", "MET_Core_AnalysisMETAuxDyn.mpy",
              "EventInfoAuxDyn.mcEventWeights", "EventInfoAuxDyn.DFCommonJets_eventClean_LooseBad"]
    a = t.arrays(names, library="ak").to_list()
    weights = [e["EventInfoAuxDyn.mcEventWeights"][0] for e in a]
    out = []
    for e in a:
        if not e["EventInfoAuxDyn.DFCommonJets_eventClean_LooseBad"]:
            continue
        objs = []  # (eta, phi, pt GeV, kind)
        for k, pt in enumerate(e[eb + "pt"]):
            if (pt > 10e3 and abs(e[eb + "eta"][k]) < 2.47 and e[eb + "DFCommonElectronsLHMedium"][k]
                    and e[eb + "ptvarcone30_Nonprompt_All_MaxWeightTTVALooseCone_pt1000"][k] < 0.15 * pt):
                objs.append((e[eb + "eta"][k], e[eb + "phi"][k], pt / 1e3, "e"))
        for k, pt in enumerate(e[mb + "pt"]):
            if (pt > 10e3 and abs(e[mb + "eta"][k]) < 2.5 and e[mb + "quality"][k] <= 1
                    and e[mb + "ptvarcone30_Nonprompt_All_MaxWeightTTVA_pt1000"][k] < 0.15 * pt):
                objs.append((e[mb + "eta"][k], e[mb + "phi"][k], pt / 1e3, "mu"))
        for k, pt in enumerate(e[pb + "pt"]):
            if (pt > 20e3 and abs(e[pb + "eta"][k]) < 2.37 and e[pb + "DFCommonPhotonsIsEMTight"][k]
                    and e[pb + "DFCommonPhotonsCleaning"][k]):
                objs.append((e[pb + "eta"][k], e[pb + "phi"][k], pt / 1e3, "gamma"))
        links = e[jb + "btaggingLink"]
        link_index = list(links.values())[-1]
        jets = []
        for k, pt in enumerate(e[jb + "pt"]):
            eta, phi = e[jb + "eta"][k], e[jb + "phi"][k]
            if not (pt > 30e3 and abs(eta) < 2.5):
                continue
            if pt < 60e3 and abs(eta) < 2.4 and not e[jb + "NNJvtPass"][k]:
                continue
            if any(_dr(eta, phi, o[0], o[1]) < 0.4 for o in objs):
                continue
            j = link_index[k]
            p = [e["BTagging_AntiKt4EMPFlowAuxDyn.DL1dv01_" + f][j] for f in ("pb", "pc", "pu")]
            disc = math.log(p[0] / (0.018 * p[1] + 0.982 * p[2]))
            jets.append((eta, phi, pt / 1e3, "b" if disc > btag_cut else "j"))
        mpx = mpy = 0.0
        for name, x, y in zip(e["MET_Core_AnalysisMETAuxDyn.name"], e["MET_Core_AnalysisMETAuxDyn.mpx"],
                              e["MET_Core_AnalysisMETAuxDyn.mpy"], strict=True):
            if name == "PVSoftTrkCore":
                mpx, mpy = x / 1e3, y / 1e3
        for o in objs + jets:
            mpx -= o[2] * math.cos(o[1])
            mpy -= o[2] * math.sin(o[1])
        kinds = [o[3] for o in objs + jets]
        out.append({"n_jets": kinds.count("j"), "n_bjets": kinds.count("b"), "n_el": kinds.count("e"),
                    "n_mu": kinds.count("mu"), "n_ph": kinds.count("gamma"), "met": math.hypot(mpx, mpy),
                    "weight": e["EventInfoAuxDyn.mcEventWeights"][0] / sum(weights)})
    return out


@needs_testdata
@pytest.mark.parametrize("btag_cut", [2.456, 0.0])
def test_physlite_matches_a_per_event_reference(btag_cut):
    # The sample (Z + jets) has one truth b jet in 100 events: the 77% working point tags none of the selected
    # jets, so a loose cut checks the b-tagging path (link -> BTagging container -> DL1dv01) as well.
    path = TESTDATA / "PHYSLITE_example.root"
    assert ingest.detect_format(path) == "physlite"
    events = ingest.read(path, cuts={"btag_cut": str(btag_cut)})
    reference = _physlite_reference(path, btag_cut)
    assert len(events) == len(reference) > 0
    got = {"n_jets": ak.num(events.jets), "n_bjets": ak.num(events.bjets), "n_el": ak.num(events.electrons),
           "n_mu": ak.num(events.muons), "n_ph": ak.num(events.photons), "met": events.met.pt, "weight": events.weight}
    for key, values in got.items():
        np.testing.assert_allclose(ak.to_numpy(values), [r[key] for r in reference], rtol=2e-5, atol=1e-4,
                                   err_msg=key)
    assert sum(r["n_el"] + r["n_ph"] for r in reference) > 0 and sum(r["n_jets"] for r in reference) > 0
    assert (sum(r["n_bjets"] for r in reference) > 0) == (btag_cut == 0.0)
    # MeV -> GeV: calibrated jets above 30 GeV, nothing at MeV scale
    jets = ak.flatten(events.jets.pt)
    assert ak.min(jets) > 30 and ak.max(jets) < 5000
    _check_rmm(events)


@needs_testdata
def test_physlite_says_which_decorations_it_could_not_apply(monkeypatch):
    from anomalyhunt.ingest.formats import physlite

    path = TESTDATA / "PHYSLITE_example.root"
    plan = ingest.plan_import(ingest.ImportConfig(inputs=(str(path),)))
    assert any("no 'Final' MET term" in note for note in plan.notes)
    missing = ingest.plan_import(ingest.ImportConfig(inputs=(str(path),),
                                                     cuts={"btagger": "GN2v00", "electron_id": "LHTight"}))
    assert not any("b-tagging" in note for note in missing.notes)  # GN2v00 is in the file too
    # A file without the JVT decoration: named in the notes, and jets below 60 GeV are then kept whatever JVT says
    present = physlite._present
    monkeypatch.setattr(physlite, "_present",
                        lambda tree, names: {k: v for k, v in present(tree, names).items() if k != "jet JVT"})
    notes = ingest.plan_import(ingest.ImportConfig(inputs=(str(path),))).notes
    assert any("no AnalysisJetsAuxDyn.NNJvtPass: jet JVT not applied" in note for note in notes)
    jvt = uproot.open(path)["CollectionTree"].arrays(["AnalysisJetsAuxDyn.pt", "AnalysisJetsAuxDyn.eta",
                                                      "AnalysisJetsAuxDyn.NNJvtPass"])
    failing = (jvt["AnalysisJetsAuxDyn.NNJvtPass"] == 0) & (jvt["AnalysisJetsAuxDyn.pt"] > 30e3)
    failing = failing & (jvt["AnalysisJetsAuxDyn.pt"] < 60e3) & (abs(jvt["AnalysisJetsAuxDyn.eta"]) < 2.4)
    assert ak.sum(failing) > 0
    without = ingest.read(path)
    monkeypatch.undo()
    with_jvt = ingest.read(path)
    assert ak.sum(ak.num(without.jets) + ak.num(without.bjets)) > ak.sum(ak.num(with_jvt.jets) + ak.num(with_jvt.bjets))


# ---------------------------------------------------------------- Delphes (a file in Delphes' layout)
def _write_delphes(path: Path, rng, n=300, weight=True):
    def objs(counts, extra):
        flat = int(counts.sum())
        fields = {"PT": rng.exponential(40, flat) + 5, "Eta": rng.uniform(-3, 3, flat),
                  "Phi": rng.uniform(-np.pi, np.pi, flat), **{k: f(flat) for k, f in extra.items()}}
        return ak.unflatten(ak.zip({k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in fields.items()}),
                            counts)

    branches = {
        "Jet": objs(rng.integers(0, 8, n), {"Mass": lambda k: rng.uniform(0, 20, k),
                                            "BTag": lambda k: rng.integers(0, 4, k).astype(np.uint32)}),
        "Electron": objs(rng.integers(0, 3, n), {"Charge": lambda k: rng.choice([-1, 1], k).astype(np.int32)}),
        "Muon": objs(rng.integers(0, 3, n), {"Charge": lambda k: rng.choice([-1, 1], k).astype(np.int32)}),
        "Photon": objs(rng.integers(0, 2, n), {"E": lambda k: rng.uniform(20, 100, k)}),
        "MissingET": ak.unflatten(ak.zip({"MET": rng.exponential(30, n).astype(np.float32),
                                          "Phi": rng.uniform(-np.pi, np.pi, n).astype(np.float32)}), np.ones(n, int)),
    }
    if weight:
        branches["Event"] = ak.unflatten(ak.zip({"Weight": rng.uniform(0.5, 1.5, n).astype(np.float32)}),
                                         np.ones(n, int))
    with uproot.recreate(path) as f:
        f.mktree("Delphes", {k: v.type for k, v in branches.items()}, counter_name=lambda c: f"{c}_size",
                 field_name=lambda outer, inner: f"{outer}.{inner}")
        f["Delphes"].extend(branches)
    return branches


def test_delphes_layout_reader(tmp_path, rng):
    path = tmp_path / "delphes.root"
    truth = _write_delphes(path, rng)
    assert ingest.detect_format(path) == "delphes"
    assert {"Jet_size", "Jet.PT", "Jet.BTag", "Event.Weight"} <= set(uproot.open(path)["Delphes"].keys())
    events = ingest.read(path, cross_section_pb=10.0)
    jets = truth["Jet"]
    ok = (jets.PT > 30) & (abs(jets.Eta) < 2.5)
    tagged = (jets.BTag & 1) == 1
    np.testing.assert_array_equal(ak.num(events.bjets), ak.sum(ok & tagged, axis=1))
    np.testing.assert_array_equal(ak.num(events.jets), ak.sum(ok & ~tagged, axis=1))
    for name, branch in (("electrons", "Electron"), ("muons", "Muon")):
        o = truth[branch]
        keep = (o.PT > 10) & (abs(o.Eta) < 2.5)
        np.testing.assert_array_equal(ak.num(events[name]), ak.sum(keep, axis=1))
        np.testing.assert_array_equal(ak.sum(events[name].charge, axis=1), ak.sum(o.Charge[keep], axis=1))
    w = ak.to_numpy(ak.firsts(truth["Event"].Weight)).astype(np.float64)
    np.testing.assert_allclose(ak.to_numpy(events.weight), 10.0 * w / w.sum(), rtol=1e-9)
    np.testing.assert_allclose(ak.to_numpy(events.met.pt), ak.to_numpy(ak.firsts(truth["MissingET"].MET)))
    _check_rmm(events)


# ---------------------------------------------------------------- LHE through Pythia, HepMC3
@needs_testdata
@pytest.mark.parametrize("name", LHE_FILES)
def test_lhe_files_shower_into_the_events_and_cross_section_of_their_header(name):
    path = TESTDATA / name
    header = read_lhe_header(path)
    text = path.read_text()
    assert header.n_events == text.count("<event")
    assert ingest.detect_format(path) == "lhe"
    events = ingest.read(path, seed=5)
    assert len(events) == header.n_events  # every LHE event showered, none lost, none invented
    assert math.isclose(float(ak.sum(events.weight)), header.cross_section_pb, rel_tol=1e-9)
    assert sorted(events.event_id.to_list()) == list(range(header.n_events))
    assert header.sqrt_s == 8000.0
    again = ingest.read(path, seed=5)
    assert again.to_list() == events.to_list()
    _check_rmm(events)


@needs_testdata
def test_lhe_chunks_match_their_lhe_events_and_record_the_header(tmp_path):
    path = TESTDATA / LHE_FILES[0]
    manifest = ingest.import_files(ingest.ImportConfig(inputs=(str(path),), chunk_size=20, process="wbj"),
                                   tmp_path / "d", workers=0)
    assert manifest["n_chunks"] == 3 and manifest["sqrt_s"] == 8000.0
    assert manifest["weight_convention"] == "cross section from the file header(s)"
    assert math.isclose(manifest["sigma_pb"], 50.109086)
    assert math.isclose(manifest["selected_sigma_pb"], 50.109086, rel_tol=1e-9)
    # The LHE W (status 1) is decayed by Pythia in all channels: BR(W -> e nu, mu nu) = 21.6%, so about a fifth
    # of the 59 events should have an isolated e or mu (binomial error 5%): a weak, independent physics check.
    events = ingest.read(tmp_path / "d")
    leptons = ak.num(events.electrons) + ak.num(events.muons)
    assert 0.08 < ak.mean(leptons >= 1) < 0.40


def _write_hepmc(path: Path, n: int, *, seed: int, mev: bool = False):
    """Pythia showers of the weak-boson LHE file written out as HepMC3 with pyhepmc; returns the particles."""
    import pyhepmc

    from anomalyhunt.generate.pythia import PythiaRun, quiet_stdout

    settings = ["Beams:frameType = 4", f"Beams:LHEF = {TESTDATA / LHE_FILES[1]}"]
    with quiet_stdout():
        batch = next(PythiaRun(settings, seed=seed).batches(n, batch_size=n, keep_failed=True))
    unit, scale = (pyhepmc.Units.MEV, 1000.0) if mev else (pyhepmc.Units.GEV, 1.0)
    with pyhepmc.open(path, "w") as out:
        for i in range(len(batch.particles)):
            event = pyhepmc.GenEvent(unit, pyhepmc.Units.MM)
            event.event_number = i
            for p in batch.particles[i].to_list():
                v = pyhepmc.FourVector(p["px"] * scale, p["py"] * scale, p["pz"] * scale, p["e"] * scale)
                event.add_particle(pyhepmc.GenParticle(v, p["id"], 1))
            for p in batch.b_hadrons[i].to_list():
                v = pyhepmc.FourVector(p["px"] * scale, p["py"] * scale, p["pz"] * scale, p["e"] * scale)
                event.add_particle(pyhepmc.GenParticle(v, 521, 2))
            event.weights = [2.0 if i % 2 else 1.0]
            cross = pyhepmc.GenCrossSection()
            cross.set_cross_section(48.77, 2.2, i + 1, i + 1)
            event.cross_section = cross
            out.write(event)
    return batch


@needs_testdata
@pytest.mark.parametrize("mev", [False, True])
def test_hepmc3_reads_final_state_particles_through_the_detector_preset(tmp_path, mev):
    from anomalyhunt.ingest.formats.lhe import PARTICLE_LEVEL_SELECTIONS, reconstruct_particles

    path = tmp_path / "showers.hepmc3"
    batch = _write_hepmc(path, 30, seed=11, mev=mev)
    assert ingest.detect_format(path) == "hepmc"
    events = ingest.read(path, seed=3)
    assert len(events) == 30
    weights = np.where(np.arange(30) % 2, 2.0, 1.0)
    np.testing.assert_allclose(ak.to_numpy(events.weight), 48.77 * weights / weights.sum(), rtol=1e-6)
    # the same particles reconstructed directly, with the same seed, give the same objects
    direct = reconstruct_particles(batch.particles, batch.b_hadrons, PARTICLE_LEVEL_SELECTIONS["particle_chekanov2022"],
                                   seed=3, key=path.name, start=0)
    for name in ("jets", "bjets", "muons", "electrons", "photons"):
        np.testing.assert_allclose(ak.to_numpy(ak.flatten(events[name].pt)), ak.to_numpy(ak.flatten(direct[name].pt)),
                                   rtol=1e-4, err_msg=name)
    np.testing.assert_allclose(ak.to_numpy(events.met.pt), ak.to_numpy(direct.met.pt), rtol=1e-4, atol=1e-3)
    _check_rmm(events)


# ---------------------------------------------------------------- clear errors, nothing half-written
def _nano_like(path: Path, *, drop=(), scale=1.0, n=50, gen_weight=True):
    rng = np.random.default_rng(1)
    counts = rng.integers(1, 5, n)

    def jag(values, dtype=np.float32):
        return ak.unflatten(values.astype(dtype), counts)

    flat = int(counts.sum())
    tree = {"Jet_pt": jag(rng.uniform(30, 300, flat) * scale), "Jet_eta": jag(rng.uniform(-2, 2, flat)),
            "Jet_phi": jag(rng.uniform(-3, 3, flat)), "Jet_mass": jag(rng.uniform(1, 20, flat) * scale),
            "Jet_jetId": jag(np.full(flat, 6), np.int32), "Jet_btagDeepFlavB": jag(rng.uniform(0, 1, flat)),
            "MET_pt": rng.uniform(0, 100, n).astype(np.float32) * scale,
            "MET_phi": rng.uniform(-3, 3, n).astype(np.float32)}
    for lepton in ("Muon", "Electron"):
        none = ak.unflatten(np.zeros(0, np.float32), np.zeros(n, int))
        for k in ("pt", "eta", "phi", "mass", "pfRelIso04_all", "pfRelIso03_all"):
            tree[f"{lepton}_{k}"] = none
        tree[f"{lepton}_charge"] = ak.values_astype(none, np.int32)
    tree["Muon_tightId"] = ak.values_astype(tree["Muon_pt"], bool)
    tree["Electron_cutBased"] = ak.values_astype(tree["Electron_pt"], np.int32)
    if gen_weight:
        tree["genWeight"] = np.ones(n, np.float32)
    # NanoAOD's own names: one branch per field, with a count branch nJet
    groups = {}
    for name, values in tree.items():
        if name in drop:
            continue
        prefix, _, field = name.partition("_")
        if values.ndim == 2 and prefix in ("Jet", "Muon", "Electron"):
            groups.setdefault(prefix, {})[field] = values
        else:
            groups[name] = values
    branches = {k: ak.zip(v) if isinstance(v, dict) else ak.Array(v) for k, v in groups.items()}
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: v.type for k, v in branches.items()}, counter_name=lambda c: f"n{c}",
                 field_name=lambda outer, inner: f"{outer}_{inner}")
        f["Events"].extend(branches)
    return path


def test_nano_like_file_layout_is_what_the_reader_expects(tmp_path):
    path = _nano_like(tmp_path / "ok.root")
    assert {"nJet", "Jet_pt", "Jet_jetId"} <= set(uproot.open(path)["Events"].keys())
    events = ingest.read(path)
    assert len(events) == 50 and ak.sum(ak.num(events.jets) + ak.num(events.bjets)) > 0


@pytest.mark.parametrize(("make", "options", "match"), [
    (lambda p: _nano_like(p, drop=("Muon_pfRelIso04_all",)), {},
         r"missing branch\(es\) Muon_pfRelIso04_all"),
    (lambda p: _nano_like(p, scale=1000.0), {}, "looks like it stores MeV"),
    (lambda p: _nano_like(p, gen_weight=False), {}, "give the integrated luminosity"),
    (lambda p: (p.write_bytes(b"this is not a physics file"), p)[1], {}, "no known format"),
    (lambda p: _nano_like(p), {"format": "physlite"}, "no 'CollectionTree' tree"),
    (lambda p: _nano_like(p), {"format": "lhe"}, "not a Les Houches Event file"),
    (lambda p: _nano_like(p), {"selection": "atlas_physlite"}, "not for nanoaod files"),
])
def test_bad_inputs_are_one_clear_line_and_write_nothing(tmp_path, make, options, match):
    path = make(tmp_path / "input.root")
    out = tmp_path / "out"
    with pytest.raises((EventFileError, ConfigError), match=match) as info:
        ingest.import_files(ingest.ImportConfig(inputs=(str(path),), **options), out, workers=0)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_empty_tree_and_data_files(tmp_path):
    empty = tmp_path / "empty.root"
    with uproot.recreate(empty) as f:
        f.mktree("Events", {"nJet": np.int32, "Jet_pt": "var * float32"})
    with pytest.raises(EventFileError, match="holds no events"):
        ingest.read(empty, format="nanoaod")
    data = _nano_like(tmp_path / "data.root", gen_weight=False)
    events = ingest.read(data, luminosity_fb=2.0)
    np.testing.assert_allclose(ak.to_numpy(events.weight), 1 / 2000.0)  # 1 / (2 fb^-1) in pb


def test_the_import_command(tmp_path, capsys):
    from anomalyhunt.cli import main

    path = _nano_like(tmp_path / "mc.root")
    code = main(["-q", "import", str(path), "-o", str(tmp_path / "d"), "--cross-section", "5", "--label", "1",
                 "--process", "zprime", "--cut", "jet_pt_min=100", "--workers", "0"])
    assert code == 0
    assert "zprime (nanoaod, selection cms_nanoaod+jet_pt_min=100)" in capsys.readouterr().out
    events = ingest.read(tmp_path / "d")
    assert set(events.label.to_list()) == {1} and math.isclose(float(ak.sum(events.weight)), 5.0)
    with pytest.raises(SystemExit) as stop:  # argparse's usage error
        main(["-q", "import", str(path), "-o", str(tmp_path / "d2"), "--cut", "nonsense"])
    assert stop.value.code == 2
    assert main(["-q", "import", str(path), "-o", str(tmp_path / "d3"), "--selection", "delphes"]) == 2
    assert not (tmp_path / "d3").exists()


def test_reader_registry_knows_its_selections():
    for reader in ingest.READERS.values():
        selection = get_selection(None, get_reader(reader.name))
        assert isinstance(selection, reader.selection_type)


@needs_testdata
def test_unfilled_branches_of_the_2015_open_data_file_are_named():
    path = str(TESTDATA / NANO_FILES[0])
    notes = " ".join(ingest.plan_import(ingest.ImportConfig(inputs=(path,))).notes)
    assert "Jet_btagDeepFlavB is not filled" in notes and "Muon_tightId is false" in notes
    assert ingest.plan_import(ingest.ImportConfig(inputs=(path,), selection="cms_opendata2015")).notes == ()
    events = ingest.read(path, selection="cms_opendata2015")
    assert ak.sum(ak.num(events.bjets)) > 0 and ak.sum(ak.num(events.muons)) > 0


@needs_testdata
def test_a_killed_import_resumes_to_the_same_dataset(tmp_path):
    from anomalyhunt.ingest.importer import import_chunk

    config = ingest.ImportConfig(inputs=(str(TESTDATA / LHE_FILES[1]),), chunk_size=30, seed=4)
    whole = ingest.import_files(config, tmp_path / "whole", workers=0)
    # a killed run: one chunk written, a temporary left behind, the manifest says incomplete
    partial = tmp_path / "partial"
    plan = ingest.plan_import(config)
    partial.mkdir()
    import_chunk(plan, 2, str(partial))
    (partial / ".chunk-00000.parquet.x.part").write_bytes(b"half a file")
    from anomalyhunt.events.io import write_manifest
    from anomalyhunt.ingest.importer import _manifest

    write_manifest(partial, _manifest(plan, [read_metadata(partial / "chunk-00002.parquet")["chunk"]]))
    with pytest.raises(EventFileError, match="incomplete dataset"):
        ingest.read(partial)
    resumed = ingest.import_files(config, partial, workers=0)
    assert resumed["complete"] and not list(partial.glob(".*.part"))
    assert ingest.read(partial).to_list() == ingest.read(tmp_path / "whole").to_list()
    assert resumed["selected_sigma_pb"] == pytest.approx(whole["selected_sigma_pb"])
    other = ingest.ImportConfig(inputs=(str(TESTDATA / LHE_FILES[1]),), chunk_size=30, seed=5)
    with pytest.raises(ConfigError, match="holds a different dataset"):
        ingest.import_files(other, partial, workers=0)


# ---------------------------------------------------------------- NanoAOD generations (v5-v7, v9, v12, v15)
# How each generation stores the IDs the reader cuts on: (photon ID branch, its kind, electron ID branch, jet ID
# branch or None, the integer type of the ID branches). v5-v7: bitmaps for photons (Spring16 / Fall17 in 2016),
# Electron_cutBased as Int_t; v9: integer levels; v12: the same as UChar; v15: no Jet_jetId.
NANO_GENERATIONS = {
    "v5-v7": ("Photon_cutBasedBitmap", "bitmap", "Electron_cutBased", "Jet_jetId", np.int32),
    "v7-2016": ("Photon_cutBased17Bitmap", "bitmap", "Electron_cutBased_Fall17_V1", "Jet_jetId", np.int32),
    "v9": ("Photon_cutBased", "level", "Electron_cutBased", "Jet_jetId", np.int32),
    "v12": ("Photon_cutBased", "level", "Electron_cutBased", "Jet_jetId", np.uint8),
    "v15": ("Photon_cutBased", "level", "Electron_cutBased", None, np.uint8),
}


def _nano_generation(path: Path, generation: str, n: int = 40, *, photon_id: bool = True):
    """A NanoAOD-like file of one generation whose photons (levels 0-3) and electrons (0-4) carry known IDs, all
    other cuts passed; returns the ID levels of the photons and of the electrons, and the number of jets."""
    photon_branch, kind, electron_branch, jet_branch, itype = NANO_GENERATIONS[generation]
    rng = np.random.default_rng(7)
    counts = {c: rng.integers(0, 4, n) for c in ("Jet", "Photon", "Electron")}
    counts["Muon"] = np.zeros(n, dtype=int)
    flat = {c: int(k.sum()) for c, k in counts.items()}
    level = {"Photon": rng.integers(0, 4, flat["Photon"]), "Electron": rng.integers(0, 5, flat["Electron"])}
    tree: dict[str, dict] = {c: {} for c in counts}
    for c in counts:
        # well separated in eta, so that no jet is removed by the overlap with a photon or an electron
        eta = {"Jet": -2.0, "Photon": 0.0, "Electron": 1.5, "Muon": 0.0}[c]
        tree[c] |= {"pt": np.full(flat[c], 60.0, np.float32), "eta": np.full(flat[c], eta, np.float32),
                    "phi": rng.uniform(-3, 3, flat[c]).astype(np.float32), "mass": np.zeros(flat[c], np.float32)}
    tree["Jet"]["btagDeepFlavB"] = np.zeros(flat["Jet"], np.float32)
    if jet_branch:
        tree["Jet"]["jetId"] = np.full(flat["Jet"], 6, itype)
    bits = np.where(level["Photon"] >= 3, 7, np.where(level["Photon"] == 2, 3, np.where(level["Photon"] == 1, 1, 0)))
    if photon_id:
        tree["Photon"][photon_branch.partition("_")[2]] = (bits if kind == "bitmap" else level["Photon"]).astype(itype)
    tree["Electron"][electron_branch.partition("_")[2]] = level["Electron"].astype(itype)
    for c in ("Electron", "Muon"):
        tree[c] |= {"charge": np.ones(flat[c], np.int32), "pfRelIso03_all": np.full(flat[c], 0.01, np.float32),
                    "pfRelIso04_all": np.full(flat[c], 0.01, np.float32)}
    tree["Muon"]["tightId"] = np.ones(0, bool)
    branches = {c: ak.zip({k: ak.unflatten(v, counts[c]) for k, v in fields.items()}) for c, fields in tree.items()}
    branches |= {"MET_pt": ak.Array(np.full(n, 10.0, np.float32)), "MET_phi": ak.Array(np.zeros(n, np.float32)),
                 "genWeight": ak.Array(np.ones(n, np.float32))}
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: v.type for k, v in branches.items()}, counter_name=lambda c: f"n{c}",
                 field_name=lambda outer, inner: f"{outer}_{inner}")
        f["Events"].extend(branches)
    return level["Photon"], level["Electron"], flat["Jet"]


@pytest.mark.parametrize("generation", list(NANO_GENERATIONS))
@pytest.mark.parametrize("working_point", ["medium", "tight"])
def test_every_nanoaod_generation_is_read_with_the_id_it_stores(tmp_path, generation, working_point):
    """The same objects written in each generation's layout give the same selected photons and electrons at the
    medium and the tight working point (a bitmap's tight bit is not its medium one); a generation without a jet
    ID keeps its jets and says so in the notes instead of refusing the file."""
    path = tmp_path / f"nano_{generation}.root"
    photon_level, electron_level, jets = _nano_generation(path, generation)
    # photons 0-3 (fail, loose, medium, tight), electrons 0-4 (fail, veto, loose, medium, tight)
    photons = int(np.sum(photon_level >= {"medium": 2, "tight": 3}[working_point]))
    electrons = int(np.sum(electron_level >= {"medium": 3, "tight": 4}[working_point]))
    assert 0 < photons < len(photon_level) and 0 < electrons < len(electron_level)
    config = ingest.ImportConfig(inputs=(str(path),), cross_section_pb=1.0,
                             cuts={"photon_id": working_point, "electron_id": working_point})
    out = ingest.import_files(config, tmp_path / "out", workers=0)
    events = ingest.read(tmp_path / "out")
    assert int(ak.sum(ak.num(events.photons))) == photons
    assert int(ak.sum(ak.num(events.electrons))) == electrons
    assert int(ak.sum(ak.num(events.jets) + ak.num(events.bjets))) == jets
    no_jet_id = [n for n in out["notes"] if "Jet_jetId" in n]
    assert bool(no_jet_id) == (NANO_GENERATIONS[generation][3] is None)


def test_a_nanoaod_file_without_any_photon_id_keeps_its_photons_empty_with_a_note(tmp_path):
    path = tmp_path / "nano.root"
    _nano_generation(path, "v9", photon_id=False)
    out = ingest.import_files(ingest.ImportConfig(inputs=(str(path),), cross_section_pb=1.0), tmp_path / "o", workers=0)
    assert any("no photon ID branch" in n for n in out["notes"])
    assert int(ak.sum(ak.num(ingest.read(tmp_path / "o").photons))) == 0
