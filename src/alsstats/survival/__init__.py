"""Survival fits: the batched Cox engine, the lifelines adapter, log-rank, bootstrap, KM.

:func:`fit_cox_batch` fits thousands of small Cox models a second (numba kernel, R's
``coxph.fit`` algorithm); :class:`CoxModel` fits one formula through lifelines; the log-rank
test, bootstrap bands of Cox contrasts and the Kaplan-Meier estimate sit beside them.
"""

from ._bootstrap import BootstrapBand, bootstrap_contrasts
from ._cox import CoxModel
from ._engine import CoxBatchResult, fit_cox, fit_cox_batch, kernel_compiled, warm_up
from ._fingerprint import platform_fingerprint
from ._km import km_estimate
from ._logrank import LogrankBatchResult, logrank_batch

__all__ = [
    "BootstrapBand",
    "CoxBatchResult",
    "CoxModel",
    "LogrankBatchResult",
    "bootstrap_contrasts",
    "fit_cox",
    "fit_cox_batch",
    "kernel_compiled",
    "km_estimate",
    "logrank_batch",
    "platform_fingerprint",
    "warm_up",
]
