"""The catalogue of named processes: Pythia settings for each SM background and BSM benchmark.

Adding a process is one `_register(Process(...))` call: a name, a line of description, default
parameters, and a function from parameters to Pythia settings strings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..exceptions import ConfigError

__all__ = ["Process", "CATALOGUE", "get_process", "process_names", "sample_name"]

# pTHat-biased sampling, (pTHat / ref)^bias_pow, so that multi-TeV tails have statistics; the weights it implies
# go into `weight`. A higher power fills the tail but spreads the weights (fewer effective events per event).


@dataclass(frozen=True)
class Process:
    """One entry of the catalogue.

    `settings(params)` returns Pythia `readString` lines; `defaults` are the parameters a user may override
    (masses in GeV). `label` is 1 for BSM processes. `forced_fake`: every event's lepton is a jet made to fake
    one, with the probability of that in the event weight (the detector preset's fake rates; see
    `reconstruction._forced_fakes`), so that a process that passes a lepton selection only through fakes can
    be simulated without generating a thousand events for each one kept.
    """

    name: str
    description: str
    settings: Callable[[Mapping[str, float]], list[str]]
    defaults: Mapping[str, float] = field(default_factory=dict)
    label: int = 0
    forced_fake: bool = False

    def resolve(self, params: Mapping[str, float] | None = None) -> dict[str, float]:
        """Defaults updated with `params`, rejecting names the process does not know."""
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "none"
            raise ConfigError(f"process '{self.name}' has no parameter {unknown[0]!r} (known: {known})")
        resolved = {**self.defaults, **params}
        for key, value in resolved.items():
            if not (isinstance(value, int | float) and not isinstance(value, bool)):
                raise ConfigError(f"process '{self.name}': parameter {key} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"process '{self.name}': parameter {key} must be a positive finite number, "
                                  f"got {value}")
        return resolved

    def check_physical(self, params: Mapping[str, float] | None, sqrt_s: float) -> None:
        """Refuse parameters no collision at `sqrt_s` (GeV) can make: masses (`mass`, `m_*`) at or above sqrt(s),
        a pTHat threshold at or above sqrt(s)/2, a fraction (`r_inv`) above 1. Pythia would otherwise spin for
        ever looking for phase space, or fail to initialise with nothing said."""
        for key, value in self.resolve(params).items():
            if (key == "mass" or key.startswith("m_")) and value >= sqrt_s:
                raise ConfigError(f"process '{self.name}': {key} = {value:g} GeV cannot be produced at sqrt(s) = "
                                  f"{sqrt_s:g} GeV")
            if key == "pthat_min" and value >= sqrt_s / 2:
                raise ConfigError(f"process '{self.name}': pthat_min = {value:g} GeV is above sqrt(s)/2 = "
                                  f"{sqrt_s / 2:g} GeV")
            if key == "r_inv" and value > 1:
                raise ConfigError(f"process '{self.name}': r_inv is a fraction in (0, 1], got {value:g}")

    def pythia_settings(self, params: Mapping[str, float] | None = None) -> list[str]:
        return self.settings(self.resolve(params))


CATALOGUE: dict[str, Process] = {}


def _register(process: Process) -> None:
    CATALOGUE[process.name] = process


def _biased(p: Mapping[str, float]) -> list[str]:
    return [f"PhaseSpace:pTHatMin = {p['pthat_min']:g}", "PhaseSpace:bias2Selection = on",
            f"PhaseSpace:bias2SelectionPow = {p['bias_pow']:g}", f"PhaseSpace:bias2SelectionRef = {p['pthat_min']:g}"]


# --- Standard Model -------------------------------------------------------------------------------------
_register(Process(
    "qcd", "QCD multijets (HardQCD:all), pTHat-biased",
    lambda p: ["HardQCD:all = on", *_biased(p)],
    {"pthat_min": 50.0, "bias_pow": 4.0},
))
_register(Process(
    "qcd_fake_lepton", "QCD multijets (HardQCD:all, unbiased above pthat_min) whose lepton is a jet faking one: "
    "each event carries the probability that one of its jets fakes an e or mu (the detector preset's fake_e, "
    "fake_mu), the QCD part of a lepton-triggered sample such as ADC2021's",
    lambda p: ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {p['pthat_min']:g}"],
    {"pthat_min": 20.0}, forced_fake=True,
))
_register(Process(
    "wjets", "W + jet (qqbar -> W g, q g -> W q), all W decays, pTHat-biased",
    lambda p: ["WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", *_biased(p)],
    {"pthat_min": 20.0, "bias_pow": 4.0},
))
_register(Process(
    "wjets_lnu", "W + jet with W -> e/mu/tau nu only, pTHat-biased (the leptonic part of wjets)",
    lambda p: ["WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", "24:onMode = off",
               "24:onIfAny = 11 13 15", *_biased(p)],
    {"pthat_min": 30.0, "bias_pow": 2.0},
))
_register(Process(
    "zjets", "Z + jet (Z only, no gamma*), all Z decays, pTHat-biased",
    lambda p: ["WeakBosonAndParton:qqbar2gmZg = on", "WeakBosonAndParton:qg2gmZq = on", "WeakZ0:gmZmode = 2",
               *_biased(p)],
    {"pthat_min": 20.0, "bias_pow": 4.0},
))
_register(Process(
    "zjets_ll", "Z + jet with Z -> ee/mumu/tautau only, pTHat-biased (the leptonic part of zjets)",
    lambda p: ["WeakBosonAndParton:qqbar2gmZg = on", "WeakBosonAndParton:qg2gmZq = on", "WeakZ0:gmZmode = 2",
               "23:onMode = off", "23:onIfAny = 11 13 15", *_biased(p)],
    {"pthat_min": 30.0, "bias_pow": 2.0},
))
_register(Process(
    "ttbar", "top pair production (gg, qqbar -> t tbar), all decays",
    lambda p: ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on"],
))
_register(Process(
    "ttbar_boosted", "top pair production (gg, qqbar -> t tbar), all decays, pTHat-biased (boosted tops)",
    lambda p: ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_biased(p)],
    {"pthat_min": 400.0, "bias_pow": 2.0},
))
_register(Process(
    "single_top", "single top, t- and s-channel",
    lambda p: ["Top:qq2tq(t:W) = on", "Top:ffbar2tqbar(s:W) = on"],
))
_register(Process(
    "diboson", "WW, WZ, ZZ production (WeakDoubleBoson:all), all decays",
    lambda p: ["WeakDoubleBoson:all = on"],
))
_register(Process(
    "gamma_jets", "prompt photon + jet (PromptPhoton:all)",
    lambda p: ["PromptPhoton:all = on", f"PhaseSpace:pTHatMin = {p['pthat_min']:g}"],
    {"pthat_min": 50.0},
))
_register(Process(
    "zz4l", "ZZ*/gamma* pairs with both bosons to e+e- or mu+mu-",
    lambda p: ["WeakDoubleBoson:ffbar2gmZgmZ = on", "23:onMode = off", "23:onIfAny = 11 13",
               f"23:mMin = {p['mll_min']:g}", f"PhaseSpace:mHatMin = {2 * p['mll_min']:g}"],
    {"mll_min": 12.0},
))


# --- BSM benchmarks of seeds 000/001 ------------------------------------------------------------------
def _ssm_wprime(p: Mapping[str, float]) -> list[str]:
    m = p["mass"]
    return ["NewGaugeBoson:ffbar2Wprime = on", f"34:m0 = {m:g}",
            # W' -> W Z' with m(Z') = m(W') - 250 GeV, W -> l nu, Z' -> q qbar (Chekanov & Hopkins)
            "34:oneChannel = 1 1.0 100 24 32", f"32:m0 = {m - 250.0:g}",
            "32:onMode = off", "32:onIfAny = 1 2 3 4 5", "24:onMode = off", "24:onIfAny = 11 13 15"]


_register(Process("ssm_wprime", "SSM W' -> W Z' (W -> l nu, Z' -> qq), m(Z') = m(W') - 250 GeV",
                  _ssm_wprime, {"mass": 2000.0}, label=1))
_register(Process(
    "ssm_zprime", "SSM Z' (Z' only, no gamma*/Z interference), SM-like decays",
    lambda p: ["NewGaugeBoson:ffbar2gmZZprime = on", "Zprime:gmZmode = 3", f"32:m0 = {p['mass']:g}"],
    {"mass": 2000.0}, label=1,
))
_register(Process(
    "dm_zprime", "axial-vector Z' -> q qbar with a W radiated by the weak shower",
    lambda p: ["NewGaugeBoson:ffbar2gmZZprime = on", "Zprime:gmZmode = 3", f"32:m0 = {p['mass']:g}",
               "Zprime:vd = 0", "Zprime:vu = 0", "Zprime:ad = 1", "Zprime:au = 1",
               "32:onMode = off", "32:onIfAny = 1 2 3 4 5",
               "TimeShower:weakShower = on", "SpaceShower:weakShower = on"],
    {"mass": 2000.0}, label=1,
))
_register(Process(
    "charged_higgs", "b g -> H+ t with H+ -> t b (2HDM)",
    lambda p: ["Higgs:useBSM = on", "HiggsBSM:bg2H+-t = on", f"37:m0 = {p['mass']:g}",
               "37:onMode = off", "37:onIfMatch = 5 6"],
    {"mass": 1000.0}, label=1,
))


# --- Standard Model, inclusive single bosons (the Mikuni, Nachman & Shih / ADC2021 mix)
# --------------------------------
_register(Process(
    "w_lnu", "inclusive W -> e/mu/tau nu (WeakSingleBoson:ffbar2W)",
    lambda p: ["WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11 13 15"],
))
_register(Process(
    "z_ll", "inclusive Z/gamma* -> ee/mumu/tautau with m(ll) > mll_min (WeakSingleBoson:ffbar2gmZ)",
    lambda p: ["WeakSingleBoson:ffbar2gmZ = on", "23:onMode = off", "23:onIfAny = 11 13 15",
               f"PhaseSpace:mHatMin = {p['mll_min']:g}"],
    {"mll_min": 40.0},
))


# --- BSM benchmarks of Mikuni, Nachman & Shih (the ADC2021 signals) ---------------------------------------------------
_register(Process(
    "a_4l", "neutral scalar A (gg -> A) -> Z* Z* -> 4 leptons (e, mu), light by default",
    lambda p: ["HiggsSM:gg2H = on", f"25:m0 = {p['mass']:g}", "25:mWidth = 0.01", "25:onMode = off",
               "25:onIfMatch = 23 23", "23:onMode = off", "23:onIfAny = 11 13", "23:mMin = 1.0"],
    {"mass": 50.0}, label=1,
))
_register(Process(
    "lq_btau", "leptoquark pairs (gg, qqbar -> LQ LQbar) with LQ -> b tau",
    lambda p: ["LeptoQuark:gg2LQLQbar = on", "LeptoQuark:qqbar2LQLQbar = on", f"42:m0 = {p['mass']:g}",
               "42:0:products = 5 -15"],
    {"mass": 80.0}, label=1,
))
_register(Process(
    "h0_tautau", "neutral scalar h0 (gg -> h0) -> tau tau",
    lambda p: ["HiggsSM:gg2H = on", f"25:m0 = {p['mass']:g}", "25:onMode = off", "25:onIfMatch = 15 -15"],
    {"mass": 60.0}, label=1,
))
_register(Process(
    "hpm_taunu", "charged scalar h+- (f fbar' -> h+-) -> tau nu",
    lambda p: ["Higgs:useBSM = on", "HiggsBSM:ffbar2H+- = on", f"37:m0 = {p['mass']:g}", "37:onMode = off",
               "37:onIfAny = 15"],
    {"mass": 60.0}, label=1,
))


# --- Krzyzanska & Nachman: e+e-mu+mu- ---------------------------------------------------------------------------------
_register(Process(
    "fourlepton_bkg", "the Krzyzanska & Nachman background: q qbar -> ZZ*/gamma* and g g -> h -> ZZ*, both "
    "Z/gamma* -> ee or mumu with m(ll) > mll_min, at their physical mix (Pythia weights the two by their cross "
    "sections)",
    lambda p: ["WeakDoubleBoson:ffbar2gmZgmZ = on", "HiggsSM:gg2H = on", "25:onMode = off", "25:onIfMatch = 23 23",
               "23:onMode = off", "23:onIfAny = 11 13", f"23:mMin = {p['mll_min']:g}",
               f"PhaseSpace:mHatMin = {2 * p['mll_min']:g}"],
    {"mll_min": 4.0},
))


def _scalar_4l(p: Mapping[str, float]) -> list[str]:
    """gg -> A (Pythia's H2, id 35) -> B C, with B -> e+e- and C -> mu+mu- two new scalars declared with
    `id:all` (ids 9000001 and 9000002, narrow: 1 MeV widths)."""
    if p["m_b"] + p["m_c"] >= p["mass"]:
        raise ConfigError(f"scalar_4l: m_b + m_c = {p['m_b'] + p['m_c']:g} must be below mass = {p['mass']:g}")
    return ["Higgs:useBSM = on", "HiggsBSM:gg2H2 = on", f"35:m0 = {p['mass']:g}", "35:mWidth = 0.01",
            "35:doForceWidth = on", "35:onMode = off",
            f"9000001:all = B_4l void 1 0 0 {p['m_b']:g} 0.001 {p['m_b'] - 0.5:g} {p['m_b'] + 0.5:g} 0.0",
            "9000001:mayDecay = on", "9000001:oneChannel = 1 1.0 100 11 -11",
            f"9000002:all = C_4l void 1 0 0 {p['m_c']:g} 0.001 {p['m_c'] - 0.5:g} {p['m_c'] + 0.5:g} 0.0",
            "9000002:mayDecay = on", "9000002:oneChannel = 1 1.0 100 13 -13",
            "35:addChannel = 1 1.0 100 9000001 9000002"]


_register(Process("scalar_4l", "Krzyzanska & Nachman signal: gg -> A -> B C, B -> e+e-, C -> mu+mu- (new scalars B, C)",
                  _scalar_4l, {"mass": 150.0, "m_b": 25.0, "m_c": 15.0}, label=1))


# --- Bortolato et al.: the LHC Olympics R&D signal ---------------------------------------------------------------
def _wprime_xy(p: Mapping[str, float]) -> list[str]:
    """W' -> X Y with X -> q qbar' (X carries the W' charge: ids 9000011, u dbar / c sbar) and Y -> q qbar
    (neutral, id 9000012, light quarks), both narrow (10 MeV)."""
    if p["m_x"] + p["m_y"] >= p["mass"]:
        raise ConfigError(f"wprime_xy: m_x + m_y = {p['m_x'] + p['m_y']:g} must be below mass = {p['mass']:g}")
    mx, my = p["m_x"], p["m_y"]
    return ["NewGaugeBoson:ffbar2Wprime = on", f"34:m0 = {p['mass']:g}",
            f"9000011:all = X_xy X_xybar 1 3 0 {mx:g} 0.01 {mx - 1:g} {mx + 1:g} 0.0", "9000011:mayDecay = on",
            "9000011:oneChannel = 1 0.5 100 2 -1", "9000011:addChannel = 1 0.5 100 4 -3",
            f"9000012:all = Y_xy void 1 0 0 {my:g} 0.01 {my - 1:g} {my + 1:g} 0.0", "9000012:mayDecay = on",
            "9000012:oneChannel = 1 0.34 100 1 -1", "9000012:addChannel = 1 0.33 100 2 -2",
            "9000012:addChannel = 1 0.33 100 3 -3",
            "34:oneChannel = 1 1.0 100 9000011 9000012"]


_register(Process("wprime_xy", "Bortolato et al. / LHC Olympics R&D signal: W' -> X Y, X -> qq', Y -> qq (new X, Y)",
                  _wprime_xy, {"mass": 3500.0, "m_x": 500.0, "m_y": 100.0}, label=1))


# --- ATLAS, second analysis: Y -> X H(bb) with an anomalous X jet --------------------------------------
_X_ID = 9000021


def _yxh(decay: Callable[[Mapping[str, float]], list[str]]) -> Callable[[Mapping[str, float]], list[str]]:
    """gg -> Y (Pythia's H2, id 35, forced narrow: 1 GeV) -> X H, H -> b bbar, with X a new neutral colour
    singlet (id 9000021) of mass m_x decaying as `decay` says."""
    def settings(p: Mapping[str, float]) -> list[str]:
        mx = p["m_x"]
        if mx + 125.0 >= p["mass"]:
            raise ConfigError(f"Y -> X H: m_x + 125 = {mx + 125.0:g} GeV must be below mass = {p['mass']:g}")
        return ["Higgs:useBSM = on", "HiggsBSM:gg2H2 = on", f"35:m0 = {p['mass']:g}", "35:mWidth = 1.0",
                "35:doForceWidth = on", "35:onMode = off", f"35:addChannel = 1 1.0 100 {_X_ID} 25",
                "25:onMode = off", "25:onIfMatch = 5 -5",
                f"{_X_ID}:all = X_yxh void 1 0 0 {mx:g} 0.01 {mx - 1:g} {mx + 1:g} 0.0", f"{_X_ID}:mayDecay = on",
                *decay(p)]
    return settings


def _x_to_qq(p: Mapping[str, float]) -> list[str]:
    return [f"{_X_ID}:oneChannel = 1 0.25 100 1 -1", f"{_X_ID}:addChannel = 1 0.25 100 2 -2",
            f"{_X_ID}:addChannel = 1 0.25 100 3 -3", f"{_X_ID}:addChannel = 1 0.25 100 4 -4"]


def _x_to_ggg(p: Mapping[str, float]) -> list[str]:
    # a colour singlet to three gluons, as orthoquarkonium (Pythia's meMode 92); decayed at the hadron level,
    # where the gluons are showered and hadronised
    return [f"{_X_ID}:isResonance = off", f"{_X_ID}:oneChannel = 1 1.0 92 21 21 21"]


def _x_to_dark(p: Mapping[str, float]) -> list[str]:
    """X -> q_v q_v-bar showering in Pythia's Hidden Valley (SU(3)_v, one flavour, running alpha_v from
    Lambda_v): dark pions and rhos (masses 2 Lambda_v) decay to SM quarks, a fraction r_inv to stable invisible
    states (ids 4900211/4900213): semi-visible jets."""
    lam, rinv = p["lambda_dark"], p["r_inv"]
    if not rinv < 1:
        raise ConfigError(f"yxh_dark: r_inv is an invisible fraction in (0, 1), got {rinv:g}")
    vis = 1.0 - rinv
    m_pi = 2.0 * lam
    return [f"{_X_ID}:oneChannel = 1 1.0 100 4900101 -4900101",
            "HiddenValley:Ngauge = 3", "HiddenValley:nFlav = 1", "HiddenValley:fragment = on",
            "HiddenValley:FSR = on", "HiddenValley:alphaOrder = 1", f"HiddenValley:Lambda = {lam:g}",
            f"HiddenValley:pTminFSR = {1.1 * lam:g}", "HiddenValley:spinFv = 0",
            f"4900101:m0 = {lam:g}", f"4900111:m0 = {m_pi:g}", f"4900113:m0 = {m_pi:g}",
            f"4900211:m0 = {lam - 0.01:g}", f"4900213:m0 = {lam - 0.01:g}",
            f"4900111:oneChannel = 1 {vis:g} 91 -3 3", f"4900111:addChannel = 1 {rinv:g} 0 4900211 -4900211",
            *(f"4900113:{'oneChannel' if q == 1 else 'addChannel'} = 1 {vis / 5:g} 91 -{q} {q}" for q in range(1, 6)),
            f"4900113:addChannel = 1 {rinv:g} 0 4900213 -4900213"]


_register(Process("yxh_qq", "ATLAS Y -> X H: Y (scalar) -> X H(bb), X -> q qbar (2-prong X jet)",
                  _yxh(_x_to_qq), {"mass": 2000.0, "m_x": 200.0}, label=1))
_register(Process("yxh_ggg", "ATLAS Y -> X H: Y -> X H(bb), X -> g g g (3-prong X jet)",
                  _yxh(_x_to_ggg), {"mass": 2000.0, "m_x": 200.0}, label=1))
_register(Process("yxh_dark", "ATLAS Y -> X H: Y -> X H(bb), X -> dark quarks showering in a Hidden Valley "
                  "(semi-visible X jet)",
                  _yxh(_x_to_dark), {"mass": 2000.0, "m_x": 200.0, "lambda_dark": 10.0, "r_inv": 0.3}, label=1))


def get_process(name: str) -> Process:
    """The catalogue entry called `name`."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ConfigError(f"unknown process {name!r}; known: {', '.join(process_names())}") from None


def process_names() -> list[str]:
    return list(CATALOGUE)


def sample_name(name: str, params: Mapping[str, float] | None = None) -> str:
    """The `process` string written into events: the name, with the mass for BSM (`ssm_wprime_2000`)."""
    process = get_process(name)
    resolved = process.resolve(params)
    if "mass" in resolved:
        return f"{name}_{resolved['mass']:g}"
    return name
