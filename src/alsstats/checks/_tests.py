"""Which p a CI implies, given the test that made the p.

A hazard ratio's CI is a Wald interval: log HR +- z SE. The p printed beside it may come from
another test. :func:`_p_expected` turns the range of Wald statistics |z_W| that the printed HR and
CI allow into the range of p values that the named test can give on the same data.

Wald
    Exact: p = 2 Phi(-|z_W|).
Score, log-rank (= the Cox score test without tied times), stratified log-rank
    Write I(b) for the Cox information at log HR b and beta for the estimate. The score at 0 is
    U(0) = integral_0^beta I(b) db (U(beta) = 0, U' = -I), so z_S = U(0) / sqrt(I(0)) and
    z_W = beta sqrt(I(beta)). Expanding I(b) = I0 + I1 b + I2 b^2 / 2, the first- and
    second-order terms agree and

        z_S - z_W = beta^3 (-I2 / 12 + I1^2 / (8 I0)) / sqrt(I0) + O(beta^4).

    With no tied times I(b) = sum over deaths of f(p_j), f = p (1 - p), p_j the treatment share
    of the risk set tilted by e^b; then I1 = sum f (1 - 2p), I2 = sum f (1 - 6p + 6p^2), and by
    Cauchy-Schwarz the bracket lies in [-I0 / 12, I0 / 24]. Hence, with beta = z_W / sqrt(I0)
    and 1 / I0 = SE^2,

        |z_S - z_W| <= |z_W|^3 SE^2 / 12  (to third order),

    whatever the allocation ratio and however the risk sets drift. SE^2 is about 4 / events at
    1:1, so the tolerance grows as events shrink (CNM-Au8: 19 deaths, HR 0.291 (0.118-0.718),
    Wald p 0.007, log-rank p 0.0115, |z_W| 2.68, SE 0.46: bound 0.34 on z, gap 0.15). The check
    allows twice this bound, for the fourth-order remainder and for tied event times (where the
    log-rank variance and the Efron/Breslow information differ slightly); the tests measure the
    share of simulated trials (20 to 60 deaths, 1:1 and 2:1) where it falsely fails. A stratified
    log-rank p beside an unstratified HR is read the same way (strata add a difference this
    bound does not cover; the explanation says so).
Likelihood ratio
    z_LR^2 = 2 (l(beta) - l(0)) = 2 integral_0^beta U(b) db; the same expansion gives
    z_LR - z_W = -(I1 / I0) z_W^2 SE / 6 + O(beta^3): a second-order gap, since the LR weighs
    the information between 0 and beta differently. |I1 / I0| <= 1, so the check allows twice
    |z_W|^2 SE / 6 + |z_W|^3 SE^2 / 12.
Wilcoxon, joint rank, permutation, Fisher, chi-square, unknown
    Not checkable: their statistic is not a function of the hazard ratio and its SE.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

__all__: list[str] = []  # private helpers of the check modules

SAFETY = 2.0  # multiple of the derived bound allowed (fourth-order remainder, tied times)

_SCORE_LIKE = ("score", "log_rank", "stratified_log_rank")
_NOT_CHECKABLE = {
    "wilcoxon": "a Wilcoxon (Gehan/Breslow) test weights early deaths; its p is not a "
    "function of the HR and its SE",
    "joint_rank": "a joint-rank test combines function and survival; its p says nothing "
    "about the HR's CI",
    "permutation": "a permutation p depends on the data beyond the HR and its SE",
    "fisher": "an exact test of a table at one time, not of the hazard ratio",
    "chi_square": "a test of a table at one time, not of the hazard ratio",
    "unknown": "the test behind this p is not named, so its distance from the Wald p is unknown",
}


@dataclass(frozen=True)
class _Expected:
    test: str
    expected: tuple[float, float] | None  # None: not checkable
    reason: str


def _tolerance(test: str, z: float, se: float) -> float:
    """Allowed |z_test - z_Wald| at Wald statistic z and SE of log HR se (module notes)."""
    third = z**3 * se**2 / 12
    if test in _SCORE_LIKE:
        return SAFETY * third
    if test == "likelihood_ratio":
        return SAFETY * (z**2 * se / 6 + third)
    return 0.0


def _p_expected(test: str, z_range: tuple[float, float], se: float) -> _Expected:
    """The p values ``test`` can give when the Wald |z| lies in ``z_range`` (SE at most ``se``).

    For Wald the range is exact (over the rounding of the printed figures): v1 behaviour.
    """
    z_lo, z_hi = z_range
    if test == "wald":
        return _Expected(test, (2 * stats.norm.sf(z_hi), 2 * stats.norm.sf(z_lo)), "")
    if test in _NOT_CHECKABLE:
        return _Expected(test, None, _NOT_CHECKABLE[test])
    tol_hi, tol_lo = _tolerance(test, z_hi, se), _tolerance(test, z_lo, se)
    expected = (2 * stats.norm.sf(z_hi + tol_hi), 2 * stats.norm.sf(max(z_lo - tol_lo, 0.0)))
    name = test.replace("_", "-")
    reason = (
        f"a {name} p may differ from the Wald p by up to {tol_hi:.2f} on the z scale "
        f"({SAFETY:g} x |z|^3 SE^2 / 12"
        + (" + |z|^2 SE / 6" if test == "likelihood_ratio" else "")
        + ", SE^2 ~ 1 / information: wider with fewer events)"
    )
    if test == "stratified_log_rank":
        reason += "; strata are not allowed for"
    return _Expected(test, expected, reason)
