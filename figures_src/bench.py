"""Build benchmark (`nox -s bench`): prints timings, asserts nothing.

Clean figure build (empty cache), per-figure compute time, cached rebuild, full mkdocs build from a warm
cache and a prose-only rebuild. Targets on 2 cores: clean chapter-1 build ≤ 60 s, prose-only rebuild ≤ 10 s.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures_src import pipeline


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def mkdocs_build(cache_dir: Path, site_dir: Path) -> float:
    config = Path(tempfile.mkdtemp()) / "mkdocs.yml"
    root = pipeline.package_root()
    # The same site, with the cache pointed at the benchmark's own folder.
    config.write_text(f"INHERIT: {root / 'mkdocs.yml'}\ndocs_dir: {root / 'docs'}\n"
                      f"theme:\n  custom_dir: {root / 'overrides'}\n"
                      f"plugins:\n  - search\n  - figures:\n      cache_dir: {cache_dir}\n")
    _, seconds = timed(lambda: subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--strict", "-f", str(config), "-d", str(site_dir)], check=True))
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp) / "cache"
        figures = pipeline.discover()
        clean, clean_seconds = timed(lambda: pipeline.compute_all(figures, cache_dir))
        numbers = pipeline.living_numbers(clean)
        _, export_seconds = timed(lambda: [pipeline.export(c, numbers) for c in clean.values()])
        _, cached_seconds = timed(lambda: pipeline.compute_all(figures, cache_dir))
        site_cache = Path(tmp) / "site-cache"
        full = mkdocs_build(site_cache, Path(tmp) / "site")  # empty cache: every figure computed
        prose = mkdocs_build(site_cache, Path(tmp) / "site")  # nothing changed but pages: all from cache

    print("\nper-figure compute time (clean cache)")
    for fid, c in clean.items():
        print(f"  {fid:<28} {c.seconds:7.2f} s  {len(c.result.rows):>6} rows")
    print("\nbuild")
    print(f"  all figures, clean cache         {clean_seconds:7.2f} s   (target ≤ 60 s on 2 cores)")
    print(f"  all figures, cached              {cached_seconds:7.2f} s")
    print(f"  exports (spec, SVG, CSV)         {export_seconds:7.2f} s")
    print(f"  mkdocs build, clean (empty cache){full:7.2f} s")
    print(f"  prose-only rebuild (warm cache)  {prose:7.2f} s   (target ≤ 10 s)")
    curvature_benchmark()


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------- chapter 3: the curvature engine

def curvature_benchmark() -> None:
    """Cost of a Hessian-vector product relative to a gradient, and Hessian-vector products (and seconds)
    to reach the top eigenvalue within 1e-4 (relative): Lanczos against power iteration, on plain, batch-norm
    and residual networks (width 256, depth 16, 32 samples of the chapter-3 teacher task, float64). The
    reference is a Lanczos run to a residual of 1e-10. Also times the curvature figure's whole sweep."""
    import torch

    from figures_src.curvature import HessianOperator, iterations_to, lanczos, power_iteration
    from figures_src.model import MLP, MLPConfig, seeded
    from figures_src.training import single_threaded, teacher_task

    def seconds_of(fn, repeat=5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        return (time.perf_counter() - start) / repeat

    depth, width = 16, 256
    nets = {"plain": MLPConfig(d_in=32, width=width, depth=depth),
            "batch norm": MLPConfig(d_in=32, width=width, depth=depth, batch_norm=True),
            "residual (α² = 1/L)": MLPConfig(d_in=32, width=width, depth=depth, branch_scale=depth**-0.5)}
    print("\ncurvature engine (float64, one thread; width 256, depth 16, 32 samples)")
    print(f"  {'network':<22}{'HVP/grad':>9}{'+graph':>8}  {'λ_max':>10}{'gap':>7}  "
          f"{'Lanczos HVPs':>12}{'s':>6}  {'power HVPs':>10}{'s':>6}  power returns")
    with single_threaded():
        x, y = teacher_task(32, 32, 0, dtype=torch.float64)
        for name, config in nets.items():
            net = MLP(config, seeded(1), dtype=torch.float64)
            params = list(net.parameters())

            def gradient():
                loss = 0.5 * (net(x) - y).pow(2).mean()
                torch.autograd.grad(loss, params)
            grad_s = seconds_of(gradient)
            build_s = seconds_of(lambda: HessianOperator(net, x, y))
            op = HessianOperator(net, x, y)
            v = torch.randn(op.dim, generator=seeded(0), dtype=torch.float64)
            hvp_s = seconds_of(lambda: op(v))
            reference = lanczos(op, op.dim, tol=1e-10, max_steps=200, generator=seeded(2))
            gap = (reference.ritz_values[-1] - reference.ritz_values[-2]).item() / reference.top
            run = lanczos(op, op.dim, tol=0.0, max_steps=40, generator=seeded(3))
            power = power_iteration(op, op.dim, tol=0.0, max_steps=300, generator=seeded(3))
            k_lanczos = iterations_to(run.top_history, reference.top)
            k_power = iterations_to(power.history, reference.top)
            # Seconds: a run stopped after exactly the products it needs (Lanczos includes its reorthogonalisation).
            lanczos_s = k_lanczos and timed(lambda: lanczos(op, op.dim, tol=0.0, max_steps=k_lanczos,
                                                            generator=seeded(3)))[1]
            power_s = k_power and timed(lambda: power_iteration(op, op.dim, tol=0.0, max_steps=k_power,
                                                                generator=seeded(3)))[1]
            fmt = lambda k, s, w: (f"{k:>{w}}{s:>6.2f}" if k else f"{'never':>{w}}{'':>6}")  # noqa: E731
            print(f"  {name:<22}{hvp_s / grad_s:>9.2f}{(build_s + hvp_s) / grad_s:>8.2f}  "
                  f"{reference.top:>10.4g}{gap:>7.3f}  {fmt(k_lanczos, lanczos_s, 12)}  "
                  f"{fmt(k_power, power_s, 10)}  {power.eigenvalue:.5g} (λ_min {reference.bottom:.4g})")
    figure = pipeline.discover()["curvature-by-depth"]
    _, sweep = timed(lambda: figure.compute(dict(figure.params)))
    print(f"  curvature-by-depth, whole sweep: {sweep:.1f} s")
