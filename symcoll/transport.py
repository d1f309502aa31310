"""Heat transport through the chain with several collisional reservoirs (issue 14, core).

Conventions: hbar = 1 and k_B = 1; energies (and rates) in the units of the input h (and
Gamma); every matrix is in the eigenbasis of ``H(eps)`` (Eq. (9)), the basis of the maps'
tensors ``S^{jk}_{j'k'}`` (Eq. (17)).  The generator is Eq. (7)/(71) with one term per
reservoir,

    L rho = -i [H(eps), rho] + sum_i Gamma_i (S_i - I) rho,

(:class:`symcoll.dynamics.Lindbladian` with a list of maps and a list of rates).  For a state
``rho`` (the steady state of L by default), :func:`heat_flows` returns, per reservoir i in the
order of the maps,

* ``J_i = Gamma_i Tr[H(eps) (S_i - I) rho]``: energy flowing into the system from reservoir i,
  bookkept with the system Hamiltonian H(eps) (Eq. (64)); ``sum_i J_i = d<H>/dt`` since the
  commutator term conserves ``<H(eps)>`` (zero at the steady state).
* ``Q_i = Gamma_i Tr[H_scatt,i (S_i - I) rho]``: energy lost by reservoir i's particles.
  ``H_scatt`` is the Hamiltonian whose levels are the scattering channels of the map: the
  exact map (38) and the global (narrow-packet) map (45) scatter between eigenstates of H(eps)
  with the particle's kinetic energy changed by the Bohr frequency ``eps_j' - eps_j``, so
  ``H_scatt = H(eps)``; the local map (54)-(56) scatters with the bare level spacings of
  ``H(0) = H_loc`` (Eq. (47)), so ``H_scatt = H(0)``, written in the eigenbasis of H(eps).
* ``W_i = J_i - Q_i = Gamma_i Tr[(H(eps) - H_scatt) (S_i - I) rho]``: the work the collisions do
  (exactly 0 for the exact and global maps; the local map's energy mismatch, O(eps)).
* ``sigma = dS/dt - sum_i beta_i Q_i`` with ``S = -Tr rho log rho``,
  ``dS/dt = -Tr[L(rho) log rho]`` (exactly 0 at the steady state, which is then used without
  evaluating a logarithm); ``sigma_J`` is the same with ``J_i`` in place of ``Q_i``.  beta_i is
  the inverse temperature of map i's bath.  Second law (Spohn's inequality): if the CPTP map
  ``S_i`` fixes ``exp(-beta_i H_scatt,i)/Z``, every term ``-Tr[Gamma_i (S_i - I)(rho) (log rho -
  log rho_i)] >= 0`` and sigma >= 0; for the exact map (38), whose fixed point is not exactly
  Gibbs, sigma >= 0 is only measured.

Errors (:class:`symcoll.budget.ErrorBudget`, all parts **estimates** unless a map's error is a
proven bound): each flow ``F = Gamma Tr[X (S - I) rho]`` is evaluated with ``X - c I``
(``c`` the midpoint of X's spectrum; equal for the exact, trace preserving S), which makes the
parts small:

* ``map``: ``Gamma e sum_{j'k'} |X'_{k'j'}| sum_{jk} |rho_jk|`` (``e`` the map's entry error;
  exact inequality, so a bound when ``e`` is);
* ``state``: ``Gamma ||C||_F delta_rho`` with ``C`` the coefficient matrix (``F = Gamma sum C rho``)
  and ``delta_rho`` the Frobenius error of rho (the steady state's ``error``);
* ``energies``: rounding of the energies / of ``U^dagger H(0) U`` times the entries of
  ``(S - I) rho`` they multiply;
* ``rounding``: ``2 d^2 u Gamma sum |X'| |S| |rho|`` (float64 evaluation, first order in u).

Profiles (:func:`excitation_profile`): the excitation ``<n_i> = Tr[n_i rho]`` of every site,
``n_i = (sigma_z^(i) + I)/2`` (Eq. (47): ``H_loc = sum_i h_i n_i``), and the *local temperature*
``T_i`` that gives ``<n_i>`` to an isolated qubit of energy ``h_i`` in a Gibbs state,
``n = 1/(exp(h/T) + 1)``, i.e. ``T_i = h_i / ln((1 - n_i)/n_i)`` (:func:`local_temperature`).

References: Eqs. (7), (38), (45), (47), (54)-(56), (64), (71)/(72) of the paper.
"""
from __future__ import annotations

import numpy as np

from .budget import ErrorBudget

__all__ = ["HeatFlows", "FlowArray", "heat_flows", "scattering_hamiltonian", "Profile", "excitation_profile",
           "local_temperature", "site_energies"]

_U = float(np.finfo(float).eps)


class FlowArray(np.ndarray):
    """A float array (one entry per reservoir, or a 0-d scalar) carrying ``.error`` (an ErrorBudget)."""

    def __new__(cls, values, error):
        obj = np.asarray(values, dtype=float).view(cls)
        obj.error = error
        return obj

    def __array_finalize__(self, obj):
        self.error = getattr(obj, "error", None)


class HeatFlows:
    """Result of :func:`heat_flows`: ``J``, ``Q``, ``W`` (per reservoir), ``sigma``, ``sigma_J``,
    ``dSdt`` (each a :class:`FlowArray` with ``.error``), ``beta``, ``kinds``, ``rates``."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return (f"HeatFlows(J={np.asarray(self.J).tolist()}, Q={np.asarray(self.Q).tolist()}, "
                f"W={np.asarray(self.W).tolist()}, sigma={float(self.sigma):.3e})")


def _c128(a):
    a = np.asarray(a)
    if a.dtype == object:
        return np.vectorize(complex, otypes=[complex])(a)
    return a.astype(complex)


def _kind_family(cmap, i):
    kind = str(getattr(cmap, "kind", "unknown"))
    for fam in ("exact", "global", "local"):
        if kind.startswith(fam):
            return fam
    raise ValueError(f"maps[{i}] has kind {kind!r}: heat_flows needs kind 'exact', 'global' or 'local' "
                     "(the kind fixes the scattering Hamiltonian H_scatt)")


def scattering_hamiltonian(system, family):
    """``(H_scatt, rounding)`` in the eigenbasis of H(eps) (float64): ``diag(eps_j)`` for the exact (38)
    and global (45) maps, ``U^dagger H(0) U`` (Eq. (47)) for the local map (54)-(56); ``rounding`` is
    an entry-error estimate (``2 d u ||H(0)||`` for the rotation)."""
    es = system.eigensystem()
    e = np.asarray(es.energies, dtype=float)
    if family in ("exact", "global"):
        return np.diag(e).astype(complex), 4.0 * len(e) * _U * max(float(np.max(np.abs(e))), 1.0)
    U = np.asarray(es.vectors, dtype=complex)
    H0 = np.asarray(system.h_loc_matrix(), dtype=float)
    Hs = U.conj().T @ H0 @ U
    return (Hs + Hs.conj().T) / 2, 2.0 * len(e) * _U * max(float(np.max(np.abs(H0))), 1.0)


def _flow(Gamma, T, X, x_err, rho, rho_err, e_map, rig_map):
    """``(value, parts)`` of ``Gamma Tr[X (S - I) rho]`` (see the module doc for the parts)."""
    d = X.shape[0]
    if not np.any(X):
        return 0.0, {}
    w = np.linalg.eigvalsh(X)
    Xs = X - (w[0] + w[-1]) / 2 * np.eye(d)
    # C[j, k] = sum_{j'k'} X'[k', j'] T[j', k', j, k] - X'[k, j];  F = Gamma sum_jk C[j, k] rho[j, k]
    C = np.einsum("ba,abjk->jk", Xs, T) - Xs.T
    value = float(np.real(Gamma * np.sum(C * rho)))
    arho = np.abs(rho)
    out = (np.einsum("abjk,jk->ab", T, rho) - rho)  # (S - I) rho
    diag_only = np.count_nonzero(X - np.diag(np.diag(X))) == 0
    touched = np.abs(np.diag(out)).sum() if diag_only else np.abs(out).sum()
    parts = {
        "map": (Gamma * e_map * np.abs(Xs).sum() * arho.sum(), "bound" if rig_map and rho_err == 0 else "estimate",
                "Gamma e sum|X - cI| sum|rho| (e: the map's entry error)"),
        "state": (Gamma * np.linalg.norm(C) * rho_err, "estimate", "Gamma ||C||_F delta_rho (rho's Frobenius error)"),
        "energies": (Gamma * x_err * touched, "estimate", "rounding of the energies / of U^dagger H(0) U"),
        "rounding": (2 * d * d * _U * Gamma * (np.einsum("ba,abjk,jk->", np.abs(Xs), np.abs(T), arho)
                                                + np.abs(Xs).sum() * arho.sum()), "estimate",
                     "float64 evaluation, 2 d^2 u Gamma sum|X'||S||rho| (first order in u)"),
    }
    return value, parts


def _stack(values, parts_list, what):
    """One FlowArray from per-reservoir values and parts (each part an array over reservoirs)."""
    names = sorted({k for p in parts_list for k in p})
    budget = {}
    for k in names:
        vals = np.array([p[k][0] if k in p else 0.0 for p in parts_list], dtype=float)
        kinds = {p[k][1] for p in parts_list if k in p}
        note = next(p[k][2] for p in parts_list if k in p)
        budget[k] = (vals, "bound" if kinds == {"bound"} else "estimate", note)
    if not budget:
        budget["exact"] = (np.zeros(len(values)), "bound", f"{what} = 0 identically (H_scatt = H(eps))")
    return FlowArray(values, ErrorBudget(budget))


def _entropy_rate(lindbladian, rho):
    """``(dS/dt, parts)`` with ``dS/dt = -Tr[L(rho) log rho]`` (rho full rank)."""
    w, V = np.linalg.eigh((rho + rho.conj().T) / 2)
    if not w[0] > 0:
        raise ValueError(f"rho must be full rank for dS/dt = -Tr[L(rho) log rho] (smallest eigenvalue {w[0]:.3e})")
    logr = (V * np.log(w)) @ V.conj().T
    Lr = _c128(lindbladian.apply(rho))
    val = float(-np.real(np.sum(Lr.T * logr)))
    emap = sum(float(g) * _entry_error(m)[0] for g, m in zip(lindbladian.rates, lindbladian.maps))
    d = rho.shape[0]
    parts = {
        "map": (emap * np.abs(rho).sum() * np.abs(logr).sum(), "estimate",
                "sum_i Gamma_i e_i sum|rho| sum|log rho|"),
        "rounding": (2 * d * d * _U * (np.abs(Lr).sum() * np.abs(logr).sum() / min(1.0, w[0]) + abs(val)),
                     "estimate", "float64 log and products (first order in u; log's condition 1/lambda_min)"),
    }
    return val, parts


def _entry_error(m):
    from .dynamics.error_budget import map_entry_error

    return map_entry_error(m)


def heat_flows(lindbladian, rho=None, rho_error=0.0):
    """Heat currents, work and entropy production of each reservoir (see the module doc).

    Parameters
    ----------
    lindbladian : Lindbladian
        With one or several maps (``.maps``, ``.rates``) of kind ``"exact"``, ``"global"`` or
        ``"local"`` (each records its bath's ``beta``).
    rho : (d, d) array or None
        State in the eigenbasis of H(eps); None: ``lindbladian.steady_state()`` (its error is
        used as ``rho_error`` and dS/dt = 0 by stationarity).
    rho_error : float
        Frobenius-norm error of a given ``rho`` (default 0: taken as exact).

    Returns
    -------
    HeatFlows
        ``J``, ``Q``, ``W``: float arrays, one entry per reservoir in the order of the maps;
        ``sigma``, ``sigma_J``, ``dSdt``: 0-d; each a :class:`FlowArray` with ``.error``.

    Raises
    ------
    ValueError
        A map of another kind, a rho of the wrong shape or (for dS/dt) not of full rank.
    """
    sysm = lindbladian.system
    d = lindbladian.d
    if rho is None:
        ss = lindbladian.steady_state()
        rho_m, rho_err, stationary = _c128(ss.state), float(ss.error.total), True
    else:
        rho_m = _c128(rho)
        if rho_m.shape != (d, d):
            raise ValueError(f"rho must have shape ({d}, {d}) (got {rho_m.shape})")
        rho_err, stationary = float(rho_error), False
        if not (np.isfinite(rho_err) and rho_err >= 0):
            raise ValueError(f"rho_error must be a finite float >= 0 (got {rho_error!r})")
    e = np.asarray(lindbladian.eigensystem.energies, dtype=float) if not lindbladian.ctx.is_mp else \
        np.array([float(x) for x in lindbladian.eigensystem.energies])
    H = np.diag(e).astype(complex)
    Jv, Qv, Wv, Jp, Qp, Wp, betas, fams = [], [], [], [], [], [], [], []
    for i, (m, g) in enumerate(zip(lindbladian.maps, lindbladian.rates)):
        fam = _kind_family(m, i)
        fams.append(fam)
        if getattr(m, "bath", None) is None:
            raise ValueError(f"maps[{i}] has no bath: heat_flows needs each map's bath (its beta) for the "
                             "entropy production; build it with collision_map or set .bath")
        betas.append(float(m.bath.beta))
        T = _c128(m.tensor)
        em, rig = _entry_error(m)
        Hs, hs_err = scattering_hamiltonian(sysm, fam)
        g = float(g)
        he = max(lindbladian.energy_error, _U * float(np.max(np.abs(e))))  # + float64 conversion
        for X, xe, vals, parts in ((H, he, Jv, Jp), (Hs, hs_err, Qv, Qp), (H - Hs, hs_err + he, Wv, Wp)):
            v, p = _flow(g, T, X, xe, rho_m, rho_err, em, rig)
            vals.append(v)
            parts.append(p)
    J, Q, W = _stack(Jv, Jp, "J"), _stack(Qv, Qp, "Q"), _stack(Wv, Wp, "W")
    if stationary:
        dS, dS_parts = 0.0, {"stationary": (0.0, "bound", "dS/dt = -Tr[L(rho_ss) log rho_ss] = 0 exactly")}
    else:
        dS, dS_parts = _entropy_rate(lindbladian, rho_m)
    b = np.array(betas)
    out = {"dSdt": FlowArray(dS, ErrorBudget(dS_parts))}
    for name, F in (("sigma", Q), ("sigma_J", J)):
        parts = {f"dSdt_{k}": (p.value, p.kind, p.note) for k, p in out["dSdt"].error.parts.items()}
        for k, p in F.error.parts.items():
            parts[f"flows_{k}"] = (float(np.sum(b * np.asarray(p.value))), p.kind, "sum_i beta_i x " + p.note)
        out[name] = FlowArray(dS - float(np.sum(b * np.asarray(F))), ErrorBudget(parts))
    return HeatFlows(J=J, Q=Q, W=W, beta=b, kinds=fams, rates=[float(g) for g in lindbladian.rates], **out)


# ----------------------------------------------------------------------------- profiles
def site_energies(system):
    """On-site energies ``h_i`` (i = 1..N) of a chain: ``system.h_sites`` where the chain has
    per-site energies (a detuned chain), else ``N`` copies of ``system.h`` (Eq. (64))."""
    N = int(system.N)
    hs = getattr(system, "h_sites", None)
    if hs is None:
        return np.full(N, float(system.h))
    hs = np.array([float(x) for x in hs], dtype=float)
    if hs.shape != (N,):
        raise ValueError(f"system.h_sites must have N = {N} entries (got {hs.shape})")
    return hs


def local_temperature(n, h):
    """Temperature that gives excitation ``n`` to an isolated qubit of energy ``h`` (k_B = 1).

    A qubit ``h (sigma_z + I)/2`` in the Gibbs state at temperature T has
    ``n = 1/(exp(h/T) + 1)`` (Fermi function); inverting, ``T = h / ln((1 - n)/n)``.
    No NaN is ever returned; the cases are explicit:

    * ``0 < n < 1/2``: ``T > 0`` (finite);
    * ``n = 1/2``: ``T = +inf`` (infinite temperature);
    * ``1/2 < n < 1``: ``T < 0`` (population inversion: a negative temperature);
    * ``n <= 0``: ``T = 0.0`` (ground state); ``n >= 1``: ``T = -0.0`` (fully inverted, the
      limit from negative temperatures).

    Parameters
    ----------
    n, h : float or array (broadcast); ``h > 0``.

    Returns
    -------
    float array of the broadcast shape.

    Examples
    --------
    >>> float(local_temperature(1 / (np.exp(4.0 / 10.0) + 1), 4.0))  # doctest: +ELLIPSIS
    10.0...
    >>> local_temperature([0.5, 0.0, 1.0], 4.0).tolist()
    [inf, 0.0, -0.0]
    """
    n, h = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(h, dtype=float))
    if np.any(~(h > 0)):
        raise ValueError(f"h must be > 0 (got {h.tolist()})")
    if np.any(np.isnan(n)):
        raise ValueError("n must not be NaN")
    out = np.empty(n.shape)
    inside = (n > 0) & (n < 1) & (n != 0.5)
    out[inside] = h[inside] / np.log((1 - n[inside]) / n[inside])
    out[n == 0.5] = np.inf
    out[n <= 0] = 0.0
    out[n >= 1] = -0.0
    return out


class Profile:
    """Result of :func:`excitation_profile` along the chain (site i = 1..N is entry i - 1).

    Attributes
    ----------
    n : FlowArray (N,)
        ``<n_i>`` with ``.error`` (an ErrorBudget).
    T : float array (N,)
        Local temperatures :func:`local_temperature` (``inf`` / negative where ``n >= 1/2``).
    T_error : float array (N,)
        First-order propagation of ``n``'s error total, ``|dT/dn| err_n`` with
        ``dT/dn = h / (n (1 - n) ln^2((1 - n)/n))``; ``inf`` where ``n +- err_n`` reaches 0 or 1/2
        (T is then not resolved).  An estimate (first order), whatever the kind of ``n``'s error.
    h : float array (N,)
        The on-site energies used (:func:`site_energies`).
    """

    def __init__(self, n, T, T_error, h):
        self.n, self.T, self.T_error, self.h = n, T, T_error, h

    def __repr__(self):
        return f"Profile(n={np.asarray(self.n).tolist()}, T={self.T.tolist()})"

    def to_dict(self) -> dict:
        """JSON-ready (infinite temperatures as the strings ``"inf"``/``"-inf"``)."""
        def num(x):
            x = float(x)
            return x if np.isfinite(x) else str(x)

        return {"n": np.asarray(self.n, dtype=float).tolist(), "n_error_estimate": np.asarray(
                    self.n.error.total, dtype=float).tolist(), "n_error": _jsonable_budget(self.n.error),
                "T": [num(x) for x in self.T], "T_error_estimate": [num(x) for x in self.T_error],
                "h": self.h.tolist(),
                "T_formula": "T_i = h_i / ln((1 - n_i)/n_i): the temperature of an isolated qubit of energy h_i "
                             "with excitation n_i; inf at n = 1/2, negative above"}


def _jsonable_budget(budget):
    d = budget.to_dict()

    def conv(x):
        if isinstance(x, dict):
            return {k: conv(v) for k, v in x.items()}
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, (np.floating, np.integer)):
            return x.item()
        return x

    return conv(d)


def excitation_profile(lindbladian_or_system, rho, rho_error=0.0):
    """Excitation ``<n_i>`` and local temperature of every site i = 1..N.

    ``n_i = (sigma_z^(i) + I)/2`` (Eq. (47), qubit 1 the most significant bit of the local
    basis) is rotated into the eigenbasis of H(eps), ``n_i' = U^dagger n_i U`` with
    ``U = system.eigensystem().vectors``, and ``<n_i> = Re Tr[n_i' rho]``.

    Parameters
    ----------
    lindbladian_or_system : Lindbladian or QubitChain
        The chain (a Lindbladian's ``.system``).
    rho : (d, d) array
        State in the eigenbasis of H(eps), e.g. ``lindbladian.steady_state().state``.
    rho_error : float
        Frobenius-norm error of ``rho`` (e.g. the steady state's ``error.total``).

    Returns
    -------
    Profile
        ``n`` with its ErrorBudget: ``state`` = ``||n_i'||_F rho_error`` (Cauchy-Schwarz,
        ``|Tr[A delta]| <= ||A||_F ||delta||_F``: a bound if ``rho_error`` is one, reported as an
        estimate as the steady state's error is), ``rounding`` = ``4 d^2 u sum|rho|`` (float64
        rotation and trace, first order in u: an estimate); ``T`` and ``T_error`` as in
        :class:`Profile`.

    Raises
    ------
    ValueError
        A system without sites (no ``N``), a rho of the wrong shape, a negative ``rho_error``.
    """
    from . import conventions as cv

    system = getattr(lindbladian_or_system, "system", lindbladian_or_system)
    if not hasattr(system, "N") or not hasattr(system, "eigensystem"):
        raise ValueError("excitation_profile needs a chain (QubitChain) or a Lindbladian of one "
                         f"(got {type(system).__name__})")
    N, d = int(system.N), int(system.dim)
    rho_m = _c128(rho)
    if rho_m.shape != (d, d):
        raise ValueError(f"rho must have shape ({d}, {d}) (got {rho_m.shape})")
    rho_error = float(rho_error)
    if not (np.isfinite(rho_error) and rho_error >= 0):
        raise ValueError(f"rho_error must be a finite float >= 0 (got {rho_error!r})")
    U = _c128(system.eigensystem().vectors)
    hs = site_energies(system)
    n_one = np.diag([0.0, 1.0])  # (sigma_z + I)/2 in the order (|0>, |1>)
    vals, fro = [], []
    for i in range(1, N + 1):
        Ni = U.conj().T @ cv.site_operator(n_one, i, N) @ U
        vals.append(float(np.real(np.sum(Ni.T * rho_m))))
        fro.append(float(np.linalg.norm(Ni)))
    vals, fro = np.array(vals), np.array(fro)
    budget = ErrorBudget({
        "state": (fro * rho_error, "estimate", "||n_i'||_F x rho's Frobenius error (Cauchy-Schwarz)"),
        "rounding": (np.full(N, 4 * d * d * _U * float(np.abs(rho_m).sum())), "estimate",
                     "float64 rotation U^dagger n_i U and trace, 4 d^2 u sum|rho| (first order in u)"),
    })
    n = FlowArray(vals, budget)
    T = local_temperature(vals, hs)
    err = np.asarray(budget.total, dtype=float)
    lo, hi = vals - err, vals + err
    resolved = (lo > 0) & (hi < 1) & ((hi < 0.5) | (lo > 0.5))
    T_err = np.full(N, np.inf)
    v = vals[resolved]
    dTdn = hs[resolved] / (v * (1 - v) * np.log((1 - v) / v) ** 2)
    T_err[resolved] = np.abs(dTdn) * err[resolved]
    return Profile(n, T, T_err, hs)
