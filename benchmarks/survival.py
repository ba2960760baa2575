"""Benchmark the nested cross-validated radiomic signature.

Run as ``python benchmarks/survival.py``. In one run, on ``synthetic_cohort`` (500 patients x
1,000 radiomic features by default), it times:

1. ``rg.survival.signature`` with serial outer folds (``n_jobs=1``);
2. the same with parallel outer folds (``n_jobs=2``), checking that the fold scores are identical;
3. scikit-survival called directly with the same outer folds, inner folds and penalty paths
   (imputation + scaling + ``CoxnetSurvivalAnalysis`` per fold, the inner folds scored by the
   held-out C-index, no container, no metrics beyond Harrell's C, no storage).

It prints the ratios serial/parallel and wrapper/direct side by side. Both sides are called once on
a small slice first, so that imports and first-call costs are not counted as per-fit costs.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from _report import report

import radiogenomics as rg


def direct_sksurv(X, time_, event, *, cv, repeats, n_alphas, seed):
    """Nested CV written with scikit-learn and scikit-survival only: same folds, same path per fold."""
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    from sksurv.metrics import concordance_index_censored
    from sksurv.util import Surv

    y = Surv.from_arrays(event, time_)
    scores = []
    outer = RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=seed)
    for i, (train, test) in enumerate(outer.split(X, event)):
        coxnet = CoxnetSurvivalAnalysis(l1_ratio=1.0, n_alphas=n_alphas, alpha_min_ratio=0.01)
        full = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), coxnet).fit(X[train], y[train])
        alphas = full[-1].alphas_
        cvm = np.zeros((cv, len(alphas)))
        inner = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed + i)
        for k, (tr, te) in enumerate(inner.split(X[train], event[train])):
            model = CoxnetSurvivalAnalysis(l1_ratio=1.0, alphas=alphas)
            pipe = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), model).fit(
                X[train][tr], y[train][tr]
            )
            eta = pipe[:-1].transform(X[train][te]) @ pipe[-1].coef_
            ev, tt = event[train][te], time_[train][te]
            cvm[k] = [concordance_index_censored(ev, tt, eta[:, j])[0] for j in range(len(alphas))]
        best = int(np.argmax(cvm.mean(axis=0)))
        risk = full[:-1].transform(X[test]) @ full[-1].coef_[:, best]
        scores.append(concordance_index_censored(event[test], time_[test], risk)[0])
    return np.array(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--n-alphas", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mdata = rg.datasets.synthetic_cohort(
        n_patients=args.patients, n_features=args.features, n_genes=200, seed=args.seed
    )
    X = mdata.mod["radiomics"].X.astype(float)
    time_ = mdata.obs["os_months"].to_numpy(float)
    event = mdata.obs["os_event"].to_numpy(bool)
    print(
        f"synthetic_cohort: {args.patients} patients x {args.features} features, {event.sum()} events; "
        f"nested CV {args.cv} outer x {args.cv} inner folds, {args.repeats} repeat(s), {args.n_alphas} penalties"
    )
    common = {"cv": args.cv, "repeats": args.repeats, "n_alphas": args.n_alphas, "seed": args.seed, "copy": True}

    # first calls import scikit-learn / scikit-survival modules and compile kernels: not per-fit costs,
    # so warm both sides up on a small slice before timing
    small = rg.datasets.synthetic_cohort(n_patients=60, n_features=30, n_genes=100, seed=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tiny cohort may select no feature; only the imports matter here
        rg.survival.signature(small, cv=2, n_alphas=5, n_jobs=1, seed=args.seed, copy=True)
        direct_sksurv(X[:60, :20], time_[:60], event[:60], cv=2, repeats=1, n_alphas=5, seed=args.seed)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other jobs slow the wall clock)")
    t0, c0 = time.perf_counter(), time.process_time()
    serial = rg.survival.signature(mdata, n_jobs=1, **common)
    t_serial, c_serial = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    parallel = rg.survival.signature(mdata, n_jobs=2, **common)
    t_parallel = time.perf_counter() - t0
    same = serial.uns["signature"]["cv_scores"].equals(parallel.uns["signature"]["cv_scores"])
    t0, c0 = time.perf_counter(), time.process_time()
    direct = direct_sksurv(X, time_, event, cv=args.cv, repeats=args.repeats, n_alphas=args.n_alphas, seed=args.seed)
    t_direct, c_direct = time.perf_counter() - t0, time.process_time() - c0
    print(f"load average after: {os.getloadavg()[0]:.1f}")

    perf = serial.uns["signature"]["performance"]
    print(f"{'run':<42}{'wall s':>9}{'CPU s':>9}{'C-index':>9}")
    print(
        f"{'rg.survival.signature, n_jobs=1':<42}{t_serial:>9.1f}{c_serial:>9.1f}{perf.loc['harrell_c', 'mean']:>9.3f}"
    )
    print(f"{'rg.survival.signature, n_jobs=2':<42}{t_parallel:>9.1f}{'':>9}{perf.loc['harrell_c', 'mean']:>9.3f}")
    print(f"{'scikit-survival directly (no final refit)':<42}{t_direct:>9.1f}{c_direct:>9.1f}{direct.mean():>9.3f}")
    print(
        f"speed-up of parallel outer folds (serial / n_jobs=2): {t_serial / t_parallel:.2f}x; fold scores identical: {same}"
    )
    # The wrapper also refits the final model on all patients (one more nested fit), so compare per fit.
    n_outer = args.cv * args.repeats
    per_fit_wall = (t_serial / (n_outer + 1)) / (t_direct / n_outer)
    per_fit_cpu = (c_serial / (n_outer + 1)) / (c_direct / n_outer)
    print(
        f"wrapper / direct, whole run: {t_serial / t_direct:.2f}x wall, {c_serial / c_direct:.2f}x CPU; "
        f"per nested fit (final refit excluded): {per_fit_wall:.2f}x wall, {per_fit_cpu:.2f}x CPU"
    )
    report("survival", "signature / scikit-survival per fit (CPU)", per_fit_cpu, "scikit-survival directly", "<= 1.2")
    report("survival", "serial / n_jobs=2 outer folds (wall)", t_serial / t_parallel, "n_jobs=1", "~2 on idle cores")


if __name__ == "__main__":
    main()
