"""Normal and Student t distribution functions in numpy and :mod:`math`: the one home of the
CDFs, survival functions and quantiles behind every analytic interval and p-value.

Why not scipy: ``labelaudit agreement`` reports Gwet's t intervals and p-values and
Fleiss-Cohen-Everitt's normal interval on every run; importing :mod:`scipy.special` for
them costs about 0.16 s of start-up (its array-API layer loads numpy.f2py and
numpy.testing), more than the whole computation on a small file (issue 15).

Accuracy (``tests/test_distributions.py``, against mpmath at 50 digits): relative error at
most 1e-13 for the quantiles over probabilities 1e-300 .. 1 - 1e-16 and df 1 .. 1e6
(integer or not), and for the CDFs and survival functions over x wherever the result is at
least 1e-300. The methods:

- Normal: ``math.erfc`` at x / sqrt(2), its rounding error corrected to first order (the
  argument is carried as a double-double, the correction is the derivative times the lost
  part: Cody 1969's splitting of x^2 in spirit). Quantile: Wichura's AS 241 rational
  approximation (Applied Statistics 37, 1988, 477-484), then Halley steps on the CDF.
- Student t: P(T <= -s) = I_x(nu/2, 1/2) / 2, x = nu / (nu + s^2), the regularised
  incomplete beta function by its continued fraction (Lentz's method, with the symmetry
  I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly: Numerical Recipes,
  3rd ed., section 6.4; DiDonato & Morris 1992, ACM TOMS 18, 360-373). For a >= 50 the
  fraction loses up to 4e-11 to cancellation as x nears 1, and the tail comes instead
  from DiDonato & Morris's BGRAT expansion in incomplete gamma functions, which for
  b = 1/2 start from erfc (:func:`_gamma_series`). The prefactor
  x^a is computed as pow(1 + u, -a) with 1 + u = 1 + s^2 / nu carried as a double-double,
  so no logarithm of a small probability is exponentiated (the error that scipy's
  ``stdtr`` shows in the deep tail); Gamma(a + 1/2) / Gamma(a + 1) by the recurrence and
  its Stirling series. Quantile: a safeguarded Newton iteration on log P in log s (exact
  for the power-law tail), started from the Cornish-Fisher expansion (Abramowitz & Stegun
  26.7.5) or the tail's power law, with bisection whenever a step leaves the bracket.

The one beta quantile the reports use, the Clopper-Pearson bound at x = n successes of n
(:func:`labelaudit.intervals.perfect_agreement`), is the Beta(n, 1) quantile in closed
form, (alpha / 2)^(1/n): no iteration is needed there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["norm_cdf", "norm_isf", "norm_ppf", "norm_sf", "t_cdf", "t_isf", "t_ppf", "t_sf"]

Float = NDArray[np.float64]

_SPLIT = 134217729.0  # 2**27 + 1, Dekker's splitting constant
_RSQRT2 = 0.7071067811865476  # 1 / sqrt(2) rounded; its remainder below
_RSQRT2_LO = -4.833646656726457e-17
_SQRT_PI = math.sqrt(math.pi)
_RSQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_ERFC = np.frompyfunc(math.erfc, 1, 1)
_ERF = np.frompyfunc(math.erf, 1, 1)
_CF_EPS = 3e-16  # Lentz's stopping rule: the last factor is 1 to within one rounding
_TINY = 1e-300
_HUGE_S = 1e150  # above it s^2 would overflow: the tail is s^-nu times a constant


def _out(values: Float) -> Any:
    """A float for a 0-d result, the array otherwise (as scipy's functions return)."""
    return float(values) if values.ndim == 0 else values


def _split(a: Float) -> tuple[Float, Float]:
    c = _SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a: Float, b: Float | float) -> tuple[Float, Float]:
    """a * b as hi + lo exactly (Dekker 1971), for |a|, |b| below 1e150."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(np.asarray(b, dtype=np.float64))
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _two_sum(a: Float | float, b: Float) -> tuple[Float, Float]:
    """a + b as hi + lo exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


# ---------------------------------------------------------------------------- normal


def norm_sf(x: ArrayLike) -> Any:
    """Standard normal survival function Q(x) = P(Z > x) = erfc(x / sqrt 2) / 2.

    Parameters
    ----------
    x : float or array of float

    Returns
    -------
    float or ndarray of float64, same shape as ``x``; relative error below 1e-13 down to
    1e-300 (x up to 37).
    """
    xs = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(xs)
    safe = np.where(finite, xs, 0.0)
    z, z_lo = _two_prod(safe, _RSQRT2)
    z_lo = z_lo + safe * _RSQRT2_LO
    e = np.asarray(_ERFC(z), dtype=np.float64)
    # erfc(z + z_lo) = erfc(z) (1 - z_lo 2 / sqrt(pi) exp(-z^2) / erfc(z)); the ratio by its
    # asymptote beyond z = 5 (the correction is then below 1e-14 and needs 1% accuracy)
    with np.errstate(all="ignore"):
        ratio = np.where(z > 5.0, _SQRT_PI * (z + 0.5 / z), np.exp(-z * z) / e)
    result = 0.5 * e * (1.0 - z_lo * (2.0 / _SQRT_PI) * ratio)
    result = np.where(finite, result, np.where(xs > 0, 0.0, np.where(xs < 0, 1.0, np.nan)))
    return _out(result)


def norm_cdf(x: ArrayLike) -> Any:
    """Standard normal CDF Phi(x) = Q(-x) (:func:`norm_sf`); same shape and accuracy."""
    return norm_sf(-np.asarray(x, dtype=np.float64))


def _as241(p: Float) -> Float:
    """Wichura's AS 241 (PPND16) normal quantile, relative accuracy about 1e-16."""
    q = p - 0.5
    r = np.where(np.abs(q) <= 0.425, 0.180625 - q * q, 0.0)
    central = q * _poly(r, _A) / _poly(r, _B)
    tail_p = np.where(q <= 0.0, p, 1.0 - p)
    with np.errstate(all="ignore"):
        r = np.sqrt(-np.log(np.where(np.abs(q) > 0.425, tail_p, 0.5)))
    near = _poly(r - 1.6, _C) / _poly(r - 1.6, _D)
    far = _poly(r - 5.0, _E) / _poly(r - 5.0, _F)
    tail = np.where(r <= 5.0, near, far)
    return np.where(np.abs(q) <= 0.425, central, np.where(q < 0.0, -tail, tail))


def _poly(r: Float, coefficients: tuple[float, ...]) -> Float:
    """Horner's rule; ``coefficients`` from the highest power down."""
    total = np.zeros_like(r)
    for c in coefficients:
        total = total * r + c
    return total


_A = (2.5090809287301226727e3, 3.3430575583588128105e4, 6.7265770927008700853e4,
      4.5921953931549871457e4, 1.3731693765509461125e4, 1.9715909503065514427e3,
      1.3314166789178437745e2, 3.3871328727963666080e0)  # fmt: skip
_B = (5.2264952788528545610e3, 2.8729085735721942674e4, 3.9307895800092710610e4,
      2.1213794301586595867e4, 5.3941960214247511077e3, 6.8718700749205790830e2,
      4.2313330701600911252e1, 1.0)  # fmt: skip
_C = (7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
      1.27045825245236838258e0, 3.64784832476320460504e0, 5.76949722146069140550e0,
      4.63033784615654529590e0, 1.42343711074968357734e0)  # fmt: skip
_D = (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
      1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e0,
      2.05319162663775882187e0, 1.0)  # fmt: skip
_E = (2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
      2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e0,
      5.46378491116411436990e0, 6.65790464350110377720e0)  # fmt: skip
_F = (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
      7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
      5.99832206555887937690e-1, 1.0)  # fmt: skip


def norm_ppf(p: ArrayLike) -> Any:
    """Standard normal quantile Phi^-1(p): AS 241, refined by two Halley steps.

    Parameters
    ----------
    p : float or array of float in [0, 1]

    Returns
    -------
    float or ndarray of float64: -inf at 0, inf at 1, NaN outside [0, 1]; relative error
    below 1e-13 for p in [1e-300, 1 - 1e-16]. The steps solve Phi(x) = p in the lower
    half and Q(x) = 1 - p (exact) in the upper one, against ``erf`` near the centre, so
    that neither residual loses digits to cancellation.
    """
    ps = np.asarray(p, dtype=np.float64)
    valid = (ps > 0.0) & (ps < 1.0)
    safe = np.where(valid, ps, 0.5)
    x = _as241(safe)
    lower = np.minimum(safe, 1.0 - safe)  # exact: 1 - p for p >= 1/2 (Sterbenz)
    central = np.abs(safe - 0.5) <= 0.425
    for _ in range(2):
        xl = -np.abs(x)  # the lower-tail quantile of min(p, 1 - p)
        erf_part = 0.5 * np.asarray(_ERF(xl * _RSQRT2), dtype=np.float64) + (0.5 - lower)
        residual = np.where(central, erf_part, norm_cdf(xl) - lower)
        density = _RSQRT_2PI * np.exp(-0.5 * xl * xl)
        step = residual / density
        xl = xl - step / (1.0 + 0.5 * xl * step)
        x = np.where(safe < 0.5, xl, -xl)
    x = np.where(safe == 0.5, 0.0, x)
    x = np.where(valid, x, np.where(ps == 0.0, -np.inf, np.where(ps == 1.0, np.inf, np.nan)))
    return _out(x)


def norm_isf(q: ArrayLike) -> Any:
    """Inverse of :func:`norm_sf`: x with Q(x) = q, i.e. -Phi^-1(q)."""
    return _out(-np.asarray(norm_ppf(q), dtype=np.float64))


# ---------------------------------------------------------------------------- Student t


def _gamma_ratio(a: Float) -> Float:
    """Gamma(a + 1/2) / Gamma(a + 1) for a > 0: the recurrence up to a >= 20, then the
    Stirling series of the log ratio (Bernoulli numbers; terms to a^-11, below 1e-18)."""
    z = a.copy()
    scale = np.ones_like(z)
    while np.any(z < 20.0):
        low = z < 20.0
        scale = np.where(low, scale * ((z + 1.0) / (z + 0.5)), scale)
        z = np.where(low, z + 1.0, z)
    v = 1.0 / z
    v2 = v * v
    series = v * (-1.0 / 8 + v2 * (1.0 / 192 + v2 * (-1.0 / 640 + v2 * (
        17.0 / 14336 + v2 * (-341.0 / 202752 + v2 * (1.5 * 691.0 / (2048 * 132)))))))  # fmt: skip
    return scale * np.exp(series) / np.sqrt(z)


def _continued_fraction(a: Float, b: Float, x: Float) -> Float:
    """The continued fraction of I_x(a, b) by the modified Lentz method (Numerical Recipes,
    3rd ed., ``betacf``); I_x(a, b) = x^a (1-x)^b / (a B(a, b)) times it. Converges fast for
    x < (a + 1) / (a + b + 2), in O(sqrt(max(a, b))) terms near that point."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = _nonzero(1.0 - qab * x / qap)
    d = 1.0 / d
    h = d.copy()
    active = np.ones(x.shape, dtype=bool)
    limit = int(200 + 20 * math.sqrt(float(np.max(np.maximum(a, b), initial=1.0))))
    for m in range(1, limit):
        m2 = 2.0 * m
        factor = np.ones_like(x)
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 / _nonzero(1.0 + aa * d)
            c = _nonzero(1.0 + aa / c)
            factor = factor * (d * c)
        h = np.where(active, h * factor, h)
        active &= np.abs(factor - 1.0) > _CF_EPS
        if not active.any():
            break
    return h


def _series_power(coefficients: list[float], beta: float, count: int) -> list[float]:
    """The first ``count`` coefficients of S(w)^beta for S = sum c_k w^k, c_0 = 1 (J. C. P.
    Miller's recurrence: p_n = sum_k ((beta + 1) k - n) c_k p_(n-k) / n)."""
    p = [1.0]
    for n in range(1, count):
        p.append(
            sum(((beta + 1.0) * k - n) * coefficients[k] * p[n - k] for k in range(1, n + 1)) / n
        )
    return p


#: (sinh(r/2) / (r/2))^(-1/2) = sum_n _SINH_COEF[n] r^(2n); sinh(v)/v = sum v^2k / (2k+1)!
_SINH_COEF = _series_power(
    [1.0 / (4.0**k * math.factorial(2 * k + 1)) for k in range(40)], -0.5, 40
)


def _gamma_series(a: Float, u: Float) -> Float:
    """sum_n d_n T^-(1/2+2n) Gamma(1/2+2n, z) e^z, so that I_x(a, 1/2) = x^T / B(a, 1/2) times
    it, with T = a - 1/4, x = 1 / (1 + u), z = T log(1 + u): DiDonato & Morris's (1992)
    BGRAT expansion for large a and small b, with b = 1/2. From t = exp(-r) in the beta
    integral, (1 - e^-r)^(-1/2) = e^(r/4) r^(-1/2) (sinh(r/2) / (r/2))^(-1/2); each power
    r^(2n) integrates to an incomplete gamma function. The n-th term is of order
    (2n)! / (2 pi T)^(2n): for T >= 50 thirty terms reach rounding level.
    Gamma(s, z) e^z by the upward recurrence H(s+1) = s H(s) + z^s (all terms positive),
    from H(1/2) = sqrt(pi) erfc(sqrt z) e^z, sqrt z carried as a double-double.
    """
    t = a - 0.25
    z = t * np.log1p(u)
    root = np.sqrt(z)
    r2, r2_lo = _two_prod(root, root)
    root_lo = ((z - r2) - r2_lo) / (2.0 * root)
    e = np.asarray(_ERFC(root), dtype=np.float64)
    with np.errstate(all="ignore"):
        ratio = np.where(root > 5.0, _SQRT_PI * (root + 0.5 / root), np.exp(-z) / e)
        scaled = e * np.exp(z) * (1.0 - root_lo * (2.0 / _SQRT_PI) * ratio)
        asymptote = (1.0 - 0.5 / z + 0.75 / z**2 - 1.875 / z**3) / (_SQRT_PI * root)
    h = _SQRT_PI * np.where(z > 700.0, asymptote, scaled) / np.sqrt(t)  # H(1/2) / T^(1/2)
    zt = z / t
    power = np.sqrt(zt)  # (z / T)^(s) with s = 1/2 + k
    total = _SINH_COEF[0] * h
    for k in range(2 * len(_SINH_COEF) - 2):
        h = ((0.5 + k) * h + power) / t  # H(s + 1) / T^(s + 1)
        power = power * zt
        if k % 2 == 1:
            term = _SINH_COEF[(k + 1) // 2] * h
            total = total + term
            if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
                break
    return total


def _nonzero(v: Float) -> Float:
    return np.where(np.abs(v) < _TINY, _TINY, v)


def _t_tails(s: Float, nu: Float, ratio: Float) -> tuple[Float, Float]:
    """(P(T <= -s), P(-s < T <= 0)) for s >= 0, each with full relative accuracy.

    P(T <= -s) = I_x(a, 1/2) / 2 with a = nu / 2, x = 1 / (1 + u), u = s^2 / nu; the
    prefactor x^a sqrt(1 - x) / (a B(a, 1/2)) = (1 + u)^-a sqrt(u / (1 + u)) R(a) / sqrt(pi)
    with R(a) = Gamma(a + 1/2) / Gamma(a + 1). Where x is past the fraction's fast region
    the complement I_{1-x}(1/2, a) gives the central part instead.
    """
    a = 0.5 * nu
    huge = s > _HUGE_S
    ss = np.where(huge, 1.0, s)
    s2, s2_lo = _two_prod(ss, ss)
    u = s2 / nu
    p_hi, p_lo = _two_prod(u, nu)
    u_lo = ((s2 - p_hi) - p_lo + s2_lo) / nu
    w, w_lo = _two_sum(1.0, u)
    w_lo = w_lo + u_lo
    with np.errstate(all="ignore"):
        power = np.where(huge, (np.sqrt(nu) / s) ** nu, w**-a * np.exp(-a * w_lo / w))
        x = np.where(huge, nu / s / s, 1.0 / w)
    y = np.where(huge, 1.0, u / w)
    base = power * np.sqrt(y) * ratio / _SQRT_PI
    direct = x < (a + 1.0) / (a + 2.5)
    expand = direct & (a >= 50.0) & (u <= 6.0)  # the fraction loses digits there
    fraction = direct & ~expand
    lower, centre = np.empty_like(s), np.empty_like(s)
    if expand.any():
        ae = a[expand]
        power_t = w[expand] ** (0.25 - ae) * np.exp((0.25 - ae) * w_lo[expand] / w[expand])
        half = 0.5 * power_t * ae * ratio[expand] / _SQRT_PI * _gamma_series(ae, u[expand])
        lower[expand], centre[expand] = half, 0.5 - half
    if fraction.any():
        af = a[fraction]
        half = 0.5 * base[fraction] * _continued_fraction(af, 0.5 + 0 * af, x[fraction])
        lower[fraction], centre[fraction] = half, 0.5 - half
    comp = ~direct
    if comp.any():
        ac = a[comp]
        half = ac * base[comp] * _continued_fraction(0.5 + 0 * ac, ac, y[comp])
        lower[comp], centre[comp] = 0.5 - half, half
    return lower, centre


def _t_args(
    x: ArrayLike, df: ArrayLike
) -> tuple[Float, Float, NDArray[np.bool_], NDArray[np.bool_], tuple[int, ...]]:
    """x and df broadcast and flattened, finite x and valid df in their place (0 and 1
    elsewhere), which x are finite with a valid df, which df are valid, and the shape."""
    xs, nus = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(df, np.float64))
    shape = xs.shape
    xs, nus = xs.ravel(), nus.ravel()
    valid_df = (nus > 0) & np.isfinite(nus)
    ok = np.isfinite(xs) & valid_df
    return np.where(ok, xs, 0.0), np.where(ok, nus, 1.0), ok, valid_df, shape


def t_sf(x: ArrayLike, df: ArrayLike) -> Any:
    """Student t survival function P(T > x) with ``df`` degrees of freedom (broadcast).

    Parameters
    ----------
    x : float or array of float
    df : float or array of float, > 0 (not necessarily an integer)

    Returns
    -------
    float or ndarray of float64: 0 / 1 at x = +inf / -inf; NaN for NaN, df <= 0 or
    df = inf (use the normal functions). Relative error below 1e-13 where the result is
    at least 1e-300 (df 1 to 1e6 checked).
    """
    xs, nus, ok, valid_df, shape = _t_args(x, df)
    lower, centre = _t_tails(np.abs(xs), nus, _gamma_ratio(0.5 * nus))
    result = np.where(xs >= 0, lower, 0.5 + centre)
    raw = np.broadcast_to(np.asarray(x, np.float64), shape).ravel()
    edge = np.where(raw == np.inf, 0.0, np.where(raw == -np.inf, 1.0, np.nan))
    return _out(np.where(ok, result, np.where(valid_df, edge, np.nan)).reshape(shape))


def t_cdf(x: ArrayLike, df: ArrayLike) -> Any:
    """Student t CDF P(T <= x) = :func:`t_sf` at -x; same shapes and accuracy."""
    return t_sf(-np.asarray(x, dtype=np.float64), df)


def t_ppf(p: ArrayLike, df: ArrayLike) -> Any:
    """Student t quantile: x with P(T <= x) = p for ``df`` degrees of freedom (broadcast).

    Parameters
    ----------
    p : float or array of float in [0, 1]
    df : float or array of float, > 0

    Returns
    -------
    float or ndarray of float64: -inf at 0, inf at 1; NaN outside [0, 1], for df <= 0 or
    df = inf. Relative error below 1e-13 for p in [1e-300, 1 - 1e-16] and df in [1, 1e6]
    (checked; beyond the largest double for df < 1 deep tails: -inf / inf). The lower tail
    q = min(p, 1 - p) (exact) is solved for s = |x| by :func:`_solve_t`.
    """
    ps, nus = np.broadcast_arrays(np.asarray(p, np.float64), np.asarray(df, np.float64))
    shape = ps.shape
    ps, nus = ps.ravel(), nus.ravel()
    ok = (ps > 0.0) & (ps < 1.0) & (nus > 0) & np.isfinite(nus)
    q = np.where(ok, np.minimum(ps, 1.0 - ps), 0.25)
    s = _solve_t(q, np.where(ok, nus, 1.0))
    x = np.where(ps < 0.5, -s, s)
    edge = np.where(ps == 0.0, -np.inf, np.where(ps == 1.0, np.inf, np.nan))
    edge = np.where((nus > 0) & np.isfinite(nus), edge, np.nan)
    return _out(np.where(ok, x, edge).reshape(shape))


def t_isf(q: ArrayLike, df: ArrayLike) -> Any:
    """Inverse of :func:`t_sf`: x with P(T > x) = q, i.e. -:func:`t_ppf` (q, df)."""
    return _out(-np.asarray(t_ppf(q, df), dtype=np.float64))


def _solve_t(q: Float, nu: Float) -> Float:
    """s >= 0 with P(T <= -s) = q, for 0 < q <= 1/2 (1-d arrays).

    Newton's method on g(w) = log(P / target) in w = log s: exact in one step for the
    power-law tail P ~ C s^-nu, quadratic near the root. Near the centre (q > 1/4) the
    target is P(-s < T <= 0) = 1/2 - q (exact), so neither side loses digits. Each step
    keeps a bracket from the sign of g and bisects it when Newton would leave it; a point
    stops after a Newton step shorter than 1e-12 (its error is then at rounding level).
    """
    central = q > 0.25
    target = np.where(central, 0.5 - q, q)
    ratio = _gamma_ratio(0.5 * nu)
    w = _t_start(q, nu, ratio, central, target)
    lo, hi = np.full_like(q, -np.inf), np.full_like(q, np.inf)
    active = q < 0.5
    for _ in range(100):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        g, slope = _t_residual(w[idx], nu[idx], ratio[idx], central[idx], target[idx])
        above = (g > 0) == central[idx]  # the root is below w
        hi[idx] = np.where(above, w[idx], hi[idx])
        lo[idx] = np.where(above, lo[idx], w[idx])
        with np.errstate(all="ignore"):
            step = np.clip(-g / slope, -50.0, 50.0)
        step = np.where(np.isfinite(step), step, 0.0)
        small = (np.abs(step) < 1e-12) & (step != 0.0) | (g == 0)
        new = w[idx] + step
        out = ~((new > lo[idx]) & (new < hi[idx])) & ~small
        bounded = np.isfinite(lo[idx]) & np.isfinite(hi[idx])
        middle = np.where(bounded, 0.5 * (lo[idx] + hi[idx]), w[idx] + np.where(above, -1.0, 1.0))
        w[idx] = np.where(out, middle, new)
        active[idx] = ~small
    return np.where(q < 0.5, np.exp(w), 0.0)


def _t_residual(
    w: Float, nu: Float, ratio: Float, central: NDArray[np.bool_], target: Float
) -> tuple[Float, Float]:
    """g = log(P / target) at s = exp(w) and dg/dw (P the lower tail, or the centre)."""
    s = np.exp(w)
    lower, centre = _t_tails(s, nu, ratio)
    value = np.where(central, centre, lower)
    a = 0.5 * nu
    log1p_u = np.where(
        s > _HUGE_S, 2.0 * w - np.log(nu), np.log1p(np.minimum(s, _HUGE_S) ** 2 / nu)
    )
    log_sf = w + _log_density_scale(nu, ratio) - (a + 0.5) * log1p_u  # log(s f(s))
    with np.errstate(all="ignore"):
        g = np.log(value / target)
        slope = np.exp(log_sf - np.log(value))
    return g, np.where(central, slope, -slope)


def _log_density_scale(nu: Float, ratio: Float) -> Float:
    """log of Gamma(a + 1/2) / (sqrt(nu pi) Gamma(a)), the t density at 0."""
    return np.log(0.5 * nu * ratio) - 0.5 * np.log(nu * math.pi)


def _t_start(q: Float, nu: Float, ratio: Float, central: NDArray[np.bool_], target: Float) -> Float:
    """log s to start from: the better (smaller |g|) of the Cornish-Fisher expansion about
    the normal quantile (Abramowitz & Stegun 26.7.5) and the power-law tail
    P ~ f(0) nu^((nu+1)/2) s^-nu / nu."""
    z = np.asarray(norm_isf(q), dtype=np.float64)
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    cornish = z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu
    log_tail = (_log_density_scale(nu, ratio) + 0.5 * (nu - 1.0) * np.log(nu) - np.log(q)) / nu
    with np.errstate(all="ignore"):
        w_cf = np.log(np.where(cornish > 0, cornish, np.exp(log_tail)))
    w_cf = np.where(np.isfinite(w_cf), w_cf, log_tail)
    g_cf, _ = _t_residual(w_cf, nu, ratio, central, target)
    g_tail, _ = _t_residual(log_tail, nu, ratio, central, target)
    better = np.abs(np.nan_to_num(g_cf, nan=np.inf)) <= np.abs(np.nan_to_num(g_tail, nan=np.inf))
    return np.where(better, w_cf, log_tail)
